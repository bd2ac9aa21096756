"""Cron schedules in systemd's calendar form (module_utils/schedule.py), table-driven; systemd-analyze itself says
when the lines elapse, and that is checked against when cron would run the job, minute by minute."""
import datetime
import shutil
import subprocess

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils.schedule import ScheduleError, oncalendar, parse

CASES = [
    # schedule, OnCalendar lines
    ('* * * * *', ['*-*-* *:*:00']),
    ('*/15 * * * *', ['*-*-* *:00/15:00']),
    ('5-50/15 * * * *', ['*-*-* *:05/15:00']),
    ('5-40/15 * * * *', ['*-*-* *:05,20,35:00']),
    ('30 2 * * *', ['*-*-* 02:30:00']),
    ('0 9-17 * * mon-fri', ['Mon..Fri *-*-* 09..17:00:00']),
    ('0 0 * * 0', ['Sun *-*-* 00:00:00']),
    ('0 0 * * 7', ['Sun *-*-* 00:00:00']),
    ('0 0 * * 6,0,1', ['Mon,Sat,Sun *-*-* 00:00:00']),
    ('0 12 1 jan,jul *', ['*-01,07-01 12:00:00']),
    ('0 0 1 */3 *', ['*-01/3-01 00:00:00']),
    ('15 4 1,15 * 5', ['Fri *-*-* 04:15:00', '*-*-01,15 04:15:00']),   # day of month OR day of week
    ('0 0 */2 * 1', ['Mon *-*-01/2 00:00:00']),                         # "*/2" is not restricted to cron
    ('0 6/6 * * *', ['*-*-* 06/6:00:00']),
    ('0,1,2,3 * * * *', ['*-*-* *:00..03:00']),
    ('@hourly', ['*-*-* *:00:00']),
    ('@daily', ['*-*-* 00:00:00']),
    ('@midnight', ['*-*-* 00:00:00']),
    ('@weekly', ['Sun *-*-* 00:00:00']),
    ('@monthly', ['*-*-01 00:00:00']),
    ('@yearly', ['*-01-01 00:00:00']),
    ('@ANNUALLY', ['*-01-01 00:00:00']),
]


@pytest.mark.parametrize('schedule,lines', CASES, ids=[c[0] for c in CASES])
def test_a_schedule_in_systemds_form(schedule, lines):
    assert oncalendar(schedule) == lines


BAD = [
    ('0 * * *', 'five fields'),
    ('0 * * * * *', 'five fields'),
    ('60 * * * *', 'the minute field has 60, outside 0-59'),
    ('0 24 * * *', 'the hour field has 24, outside 0-23'),
    ('0 0 0 * *', 'the day of month field has 0, outside 1-31'),
    ('0 0 * 13 *', 'the month field has 13'),
    ('0 0 * * 8', 'the day of week field has 8'),
    ('*/0 * * * *', 'a step must be 1 or more'),
    ('0 5-1 * * *', 'runs backwards'),
    ('0 0 ? * *', 'which cron does not read'),
    ('0 0 L * *', 'not a number'),
    ('0 0 * * mon#2', 'which cron does not read'),
    ('0 0 * * monday', 'not a number'),
    ('@reboot', '@reboot is not a schedule'),
    ('@often', 'not a schedule cron knows'),
    ('', 'five fields'),
]


@pytest.mark.parametrize('schedule,said', BAD, ids=[c[0] or 'empty' for c in BAD])
def test_a_schedule_cron_would_not_take_says_why_and_the_fix(schedule, said):
    with pytest.raises(ScheduleError) as caught:
        oncalendar(schedule)
    assert said in str(caught.value)
    assert caught.value.fix


def cron_runs(schedule, start, count):
    """The next ``count`` minutes after ``start`` at which cron runs ``schedule`` (minute by minute, as cron's
    own loop does; written apart from the module's rendering)."""
    parsed = parse(schedule)
    minute, hour, dom, month, dow = (set(f) for f in parsed['fields'])
    out, t = [], start.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    while len(out) < count:
        day_ok = ((t.day in dom or t.isoweekday() % 7 in dow) if parsed['dom_or_dow']
                  else (t.day in dom and t.isoweekday() % 7 in dow))
        if t.minute in minute and t.hour in hour and t.month in month and day_ok:
            out.append(t)
        t += datetime.timedelta(minutes=1)
    return out


def systemd_elapses(lines, base, count):
    """What systemd-analyze calendar says: the next ``count`` elapses of all ``lines`` after ``base`` (UTC)."""
    got = set()
    for line in lines:
        res = subprocess.run(['systemd-analyze', 'calendar', '--iterations=%d' % count, line + ' UTC'],
                             capture_output=True, text=True, check=True, env={'TZ': 'UTC', 'LC_ALL': 'C'})
        for text in res.stdout.splitlines():
            text = text.strip()
            if text.startswith(('Next elapse:', 'Iter. #')):
                stamp = text.split(':', 1)[1].split()
                got.add(datetime.datetime.strptime(' '.join(stamp[1:3]), '%Y-%m-%d %H:%M:%S'))
    return sorted(t for t in got if t > base)[:count]


CHECKED = [c[0] for c in CASES] + ['7 3 29 2 *', '0 0 13 * fri', '*/7 */5 * * *', '0 0 31 * *']


@pytest.mark.skipif(not shutil.which('systemd-analyze'), reason='needs systemd-analyze')
@pytest.mark.parametrize('schedule', CHECKED)
def test_systemd_elapses_when_cron_would_run_the_job(schedule):
    for _ in range(2):      # a minute may turn between the two looks: look again
        base = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        count = 6 if not schedule.startswith('7 3 29 2') else 2
        said = systemd_elapses(oncalendar(schedule), base, count)
        if said == cron_runs(schedule, base, count):
            break
    assert said == cron_runs(schedule, base, count)
