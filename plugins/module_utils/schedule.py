# -*- coding: utf-8 -*-
# Copyright: pyfleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheduled jobs: a cron schedule, as cron reads it, in systemd's calendar form.

A schedule is what crontab(5) takes and dokku's ``app.json`` ``cron`` and piku's Procfile ``cron*`` lines give:
five fields (minute, hour, day of month, month, day of week), each ``*``, a number, a range ``a-b``, a step
``*/n``, ``a-b/n`` or ``a/n``, or a list of them, with month and day names; or a shorthand (``@hourly``,
``@daily``, ``@midnight``, ``@weekly``, ``@monthly``, ``@yearly``, ``@annually``). ``oncalendar`` gives the
``OnCalendar=`` lines of a systemd timer that elapse at exactly the minutes cron would run the job, in the host's
time zone as cron's: cron runs a job whose day of month and day of week are both restricted (neither starts with
``*``) when either matches, and systemd when both do, so such a schedule is two lines.

Plain Python: the plan uses it on the controller; its unit tests ask ``systemd-analyze calendar`` what the
lines mean.
"""

from __future__ import annotations

import re

SHORTHANDS = {
    '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
    '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
}
MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
SYSTEMD_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
# (name, lowest, highest, names from the lowest)
FIELDS = [('minute', 0, 59, None), ('hour', 0, 23, None), ('day of month', 1, 31, None),
          ('month', 1, 12, MONTHS), ('day of week', 0, 7, DAYS)]
_ITEM_RE = re.compile(r'^(?:(\*)|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/([0-9]+))?$', re.I)
EXAMPLE = '"*/15 * * * *" (every 15 minutes), "30 2 * * *" (02:30 daily) or "@hourly"'


class ScheduleError(ValueError):
    """A schedule cron would not take; ``str()`` says why, ``fix`` what to write."""

    def __init__(self, message, fix='Write five fields, e.g. %s.' % EXAMPLE):
        super().__init__(message)
        self.fix = fix


def _value(word, field):
    name, low, high, names = field
    if word.isdigit():
        number = int(word)
    elif names and word.lower()[:3] in names and len(word) == 3:
        number = names.index(word.lower()) + (low if names is MONTHS else 0)
    else:
        raise ScheduleError('the %s field has %r, which is not a number%s.'
                            % (name, word, ' or a name (%s)' % ', '.join(names[:3] + ['...']) if names else ''))
    if not low <= number <= high:
        raise ScheduleError('the %s field has %d, outside %d-%d.' % (name, number, low, high))
    return number


def field_values(text, field):
    """One field's text -> the sorted values it matches (the day of week's 7 is 0, Sunday)."""
    name, low, high, _ = field
    values = set()
    for item in text.split(','):
        found = _ITEM_RE.match(item)
        if not found:
            raise ScheduleError('the %s field has %r, which cron does not read (it takes *, a number, a-b, */n, '
                                'a-b/n and lists of them).' % (name, item))
        star, first, last, step = found.groups()
        if star:
            start, end = low, high
        else:
            start = _value(first, field)
            end = _value(last, field) if last else (high if step else start)
        if end < start:
            raise ScheduleError('the %s field has the range %s, which runs backwards.' % (name, item))
        if step is not None and int(step) == 0:
            raise ScheduleError('the %s field has the step %s, and a step must be 1 or more.' % (name, item))
        values.update(range(start, end + 1, int(step or 1)))
    if name == 'day of week' and 7 in values:
        values.discard(7)
        values.add(0)
    return sorted(values)


def parse(schedule):
    """A schedule -> {'fields': [five value lists], 'dom_or_dow': bool}; raises ScheduleError."""
    text = ' '.join(str(schedule or '').split())
    if text.lower() == '@reboot':
        raise ScheduleError('@reboot is not a schedule: it runs once when cron starts.',
                            'Run it as a Procfile process, or in the release phase (release: ...), which run at '
                            'each start and each deploy.')
    text = SHORTHANDS.get(text.lower(), text)
    if text.startswith('@'):
        raise ScheduleError('%s is not a schedule cron knows.' % text,
                            'Use one of %s, or five fields.' % ', '.join(sorted(SHORTHANDS)))
    words = text.split()
    if len(words) != 5:
        raise ScheduleError('a schedule has five fields (minute, hour, day of month, month, day of week), '
                            'and %r has %d.' % (text, len(words)))
    fields = [field_values(word, field) for word, field in zip(words, FIELDS)]
    # cron: a job whose day of month and day of week are both restricted runs when either matches
    return {'fields': fields, 'dom_or_dow': not words[2].startswith('*') and not words[4].startswith('*')}


def _render(values, low, high, names=None):
    """A value list in systemd's calendar syntax: *, a/step, or a list of values and ranges a..b."""
    full = list(range(low, high + 1))
    if values == full:
        return '*'
    show = (lambda v: names[v]) if names else (lambda v: '%02d' % v)
    if not names and len(values) > 2:
        step = values[1] - values[0]
        if step > 1 and values == list(range(values[0], high + 1, step)):
            return '%s/%d' % (show(values[0]), step)
    parts, run = [], [values[0]]
    for v in values[1:] + [None]:
        if v is not None and v == run[-1] + 1:
            run.append(v)
            continue
        parts.append('%s..%s' % (show(run[0]), show(run[-1])) if len(run) > 2 else ','.join(show(r) for r in run))
        run = [v]
    return ','.join(parts)


def oncalendar(schedule):
    """A cron schedule -> the list of systemd OnCalendar= lines that elapse when cron would run it."""
    parsed = parse(schedule)
    minute, hour, dom, month, dow = parsed['fields']
    # systemd's week starts on Monday; a range that wraps (Sat..Mon) is said as a list
    days = sorted(dow, key=lambda d: (d + 6) % 7)
    week = _render([(d + 6) % 7 for d in days], 0, 6, SYSTEMD_DAYS[1:] + SYSTEMD_DAYS[:1])
    clock = '%s:%s:00' % (_render(hour, 0, 23), _render(minute, 0, 59))
    months = _render(month, 1, 12)
    if parsed['dom_or_dow']:
        return ['%s *-%s-* %s' % (week, months, clock), '*-%s-%s %s' % (months, _render(dom, 1, 31), clock)]
    date = '*-%s-%s %s' % (months, _render(dom, 1, 31), clock)
    return [date if week == '*' else '%s %s' % (week, date)]


def split(line):
    """``"<schedule> <command>"`` (piku's Procfile form) -> (schedule, command); raises ScheduleError."""
    words = str(line or '').split()
    count = 1 if words and words[0].startswith('@') else 5
    if len(words) <= count:
        raise ScheduleError('%r is not "<schedule> <command>": it has no command after %s.'
                            % (' '.join(words), 'the shorthand' if count == 1 else 'five schedule fields'))
    return ' '.join(words[:count]), str(line).strip().split(None, count)[count]


def job(name, command, source, line, schedule=None):
    """A scheduled job as the plan holds it: {name, command, schedule, calendar, source, line}. Without
    ``schedule``, ``command`` starts with it (piku's form). Raises ScheduleError."""
    if schedule is None:
        schedule, command = split(command)
    schedule = ' '.join(str(schedule).split())
    return {'name': name, 'command': command, 'schedule': schedule, 'calendar': oncalendar(schedule),
            'source': source, 'line': line}
