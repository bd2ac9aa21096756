"""A build step (module_utils/steps.py, report.py): a failure said once, as lines, with what serves and a hint."""
import json

from ansible_collections.pyfleet.deploy.plugins.module_utils import report, steps

NATIVE = [
    {'match': 'mysql_config', 'needs': 'the MySQL client library',
     'packages': ['default-libmysqlclient-dev', 'build-essential', 'pkg-config']},
    {'match': "command 'gcc' failed", 'needs': 'a C compiler', 'packages': ['build-essential']},
    {'match': 'pg_config', 'needs': 'libpq', 'packages': ['libpq-dev']},
]
HINTS = [{'match': 'readonly database', 'text': 'Hint: the database.'},
         {'match': 'Read-only file system|Permission denied', 'text': 'Hint: the sandbox.'}]


def fake(rc, out, err, timed_out=False, ran=None):
    """A run that prints ``out`` and ``err`` and ends with ``rc``."""
    def run(argv, scan, timeout, unit, journal):
        if ran is not None:
            ran.append(argv)
        for stream, text in (('out', out), ('err', err)):
            for line in text.splitlines():
                scan.feed(stream, line)
        return rc, timed_out
    return run


def params(**kw):
    out = {k: v.get('default') for k, v in steps.ARGUMENT_SPEC.items()}
    out.update(argv=['true'], step='the build step "Import the WSGI app"')
    out.update(kw)
    return out


def test_a_step_that_succeeds_returns_its_output_for_later_tasks():
    res = steps.run_task(params(changed=False), run=fake(0, 'Copied 3 files\n', 'a warning\n'))
    assert res == {'changed': False, 'rc': 0, 'stdout': 'Copied 3 files\n', 'stderr': 'a warning\n'}


def test_a_failure_is_one_message_with_what_serves_and_no_raw_output_beside_it():
    run = fake(1, 'collecting\n', 'Traceback (most recent call last):\nRuntimeError: boom on import\n')
    res = steps.run_task(params(current='/srv/shop/current'), run=run, exists=lambda path: True)
    assert res['failed'] and res['rc'] == 1 and 'stdout' not in res and 'stderr' not in res
    assert res['msg'].splitlines() == [
        'pyfleet: the build step "Import the WSGI app" failed (exit 1).',
        'Nothing was switched: the host keeps serving the previous release.',
        'collecting', 'Traceback (most recent call last):', 'RuntimeError: boom on import']
    # no release served before: the message does not speak of one
    first = steps.run_task(params(current='/srv/shop/current'), run=run, exists=lambda path: False)
    assert first['msg'].splitlines()[1] == 'Nothing was started: nothing served before this release.'
    assert 'previous release' not in first['msg']


def test_output_that_says_it_failed_fails_the_step_even_with_exit_0():
    res = steps.run_task(params(fail_on='Error loading [a-z]+'), run=fake(0, '[nltk_data] Error loading punkt\n', ''))
    assert res['failed'] and res['msg'].startswith("pyfleet: the build step \"Import the WSGI app\" failed "
                                                   "(its output says 'Error loading punkt').")


def test_long_output_keeps_its_last_lines_and_says_how_many_came_before():
    out = '\n'.join('line %d' % n for n in range(1, 101))
    assert report.tail(out, 3) == ['[... 97 earlier lines]', 'line 98', 'line 99', 'line 100']
    res = steps.run_task(params(tail=2), run=fake(2, out, ''))
    assert res['msg'].splitlines()[1:] == ['[... 98 earlier lines]', 'line 99', 'line 100']


def test_native_build_hints_name_every_package_in_one_round_and_the_first_other_hint():
    out = "mysql_config not found\nerror: command 'gcc' failed: No such file\n"
    hint = report.packages_hint(out, NATIVE)
    assert hint.splitlines() == [
        'Hint: a package failed to build from source; it needs the MySQL client library, a C compiler.',
        'Add these Debian packages to pyfleet_system_packages (the compiler and headers together), e.g.',
        '''  -e '{"pyfleet_system_packages": ["default-libmysqlclient-dev", "build-essential", "pkg-config"]}\'''']
    assert report.packages_hint('all fine', NATIVE) is None
    # the first hint that matches, and only it
    assert report.first_hint('attempt to write a readonly database\nPermission denied', HINTS) == 'Hint: the database.'
    assert report.first_hint('Permission denied', HINTS) == 'Hint: the sandbox.'
    res = steps.run_task(params(native_build_hints=NATIVE, hints=HINTS), run=fake(1, out, 'Permission denied'))
    assert res['msg'].splitlines()[-4:] == hint.splitlines() + ['Hint: the sandbox.']


def test_a_bad_pattern_is_said_before_anything_runs():
    ran = []
    res = steps.run_task(params(hints=[{'match': '(', 'text': 'x'}]), run=fake(0, '', '', ran=ran))
    assert res['failed'] and res['msg'].startswith("hints: '(' is not a regular expression") and not ran


def test_a_real_command_with_both_streams_and_one_that_cannot_start():
    res = steps.run_task(params(argv=['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']))
    assert res['failed'] and res['msg'].splitlines()[1:] == ['out', 'err']
    assert steps.run_task(params(argv=['/bin/sh', '-c', 'echo fine']))['stdout'] == 'fine\n'
    gone = steps.run_task(params(argv=['/nonexistent/pyfleet-step']))
    assert gone['rc'] == 127 and 'No such file or directory' in gone['msg']


def test_a_step_past_its_time_limit_is_stopped_and_named_with_the_setting():
    ran = []
    res = steps.run_task(params(argv=['systemd-run', '--wait', '--', 'sleep', '100000'], timeout=30,
                                unit='pyfleet-shop-build', current='/srv/shop/current'),
                         run=fake(1, 'migrating\n', '', timed_out=True, ran=ran), exists=lambda path: True)
    # systemd ends the unit by itself at the limit, even when the deploy that started it is gone
    assert ran == [['systemd-run', '--property=RuntimeMaxSec=30', '--wait', '--', 'sleep', '100000']]
    assert res['failed'] and res['timed_out']
    assert res['msg'].splitlines()[:3] == [
        'pyfleet: the build step "Import the WSGI app" did not finish within pyfleet_step_timeout (30 s), and was '
        'stopped. If it needs longer, raise pyfleet_step_timeout; if it hangs, its last lines are below.',
        'Nothing was switched: the host keeps serving the previous release.', 'migrating']
    # no limit, or not a systemd-run command line: the command line as it is
    assert steps.limited(['systemd-run', 'x'], 0) == ['systemd-run', 'x']
    assert steps.limited(['/bin/sh', '-c', 'x'], 30) == ['/bin/sh', '-c', 'x']


def test_a_real_command_past_its_limit_is_killed():
    res = steps.run_task(params(argv=['/bin/sh', '-c', 'echo started; exec sleep 60'], timeout=1),
                         run=lambda argv, scan, timeout, unit, journal: steps.execute(
                             argv, scan, timeout, unit, journal, grace=0))
    assert res['failed'] and res['timed_out'] and 'started' in res['msg'].splitlines()


def test_output_is_bounded_in_lines_and_bytes_and_patterns_are_searched_in_all_of_it():
    scan = steps.Scan(['mysql_config', 'Error loading'], lines=3, max_bytes=100)
    scan.feed('out', 'mysql_config not found')
    for n in range(10000):
        scan.feed('out', 'x' * 40)
    scan.feed('out', 'y' * 10000)
    assert scan.count['out'] == 10002 and len(scan.kept['out']) == 1
    assert scan.kept['out'][0].startswith('y' * steps.LINE_MAX + ' [... 5904 more characters]')
    assert scan.tail('out')[0] == '[... 10001 earlier lines]'
    assert scan.said('mysql_config') == 'mysql_config' and scan.said('Error loading') is None
    assert report.packages_hint(scan.matched(), NATIVE).startswith(
        'Hint: a package failed to build from source; it needs the MySQL client library.')


def test_a_real_command_with_megabytes_of_output_keeps_only_its_tail():
    res = steps.run_task(params(argv=['/bin/sh', '-c', 'yes "a long line of build output" | head -n 200000; '
                                      'echo mysql_config missing >&2; echo last; exit 1'],
                                tail=5, native_build_hints=NATIVE))
    lines = res['msg'].splitlines()
    assert lines[1] == '[... 199996 earlier lines]' and lines[6] == 'last'
    assert 'mysql_config missing' in lines and len(res['msg']) < 2000
    assert 'the MySQL client library' in res['msg']
    # a line with no end at all is cut, not held whole
    res = steps.run_task(params(argv=['/bin/sh', '-c', 'head -c 3000000 /dev/zero | tr "\\\\0" z; exit 1']))
    assert len(res['msg']) < steps.TAIL_BYTES + 1000


def test_a_last_check_that_passes_marks_the_release_checked_with_gunicorn_s_answer(tmp_path):
    state = tmp_path / 'state'
    state.mkdir()
    (state / 'r2.failed').write_text('build step\n')
    checked = {'release': str(tmp_path / 'releases/r2'), 'state': str(state), 'gunicorn': {'bind': ['old']}}
    said = 'imported\npyfleet-gunicorn: {"bind": ["unix:/run/x.sock"]}\n'
    res = steps.run_task(params(changed=False, checked=checked), run=fake(0, said, ''))
    assert res['marked'] and res['changed'] and not (state / 'r2.failed').exists()
    assert json.loads((state / 'r2.checked').read_text()) == {'gunicorn': {'bind': ['unix:/run/x.sock']}, 'id': 'r2'}
    # no answer in the output: the mark keeps the one it held; the same mark again is no change
    again = steps.run_task(params(changed=False, checked=dict(checked, gunicorn={'bind': ['unix:/run/x.sock']})),
                           run=fake(0, 'imported\n', ''))
    assert again['marked'] is False and again['changed'] is False
    # a step that fails marks nothing
    (state / 'r2.checked').unlink()
    failed = steps.run_task(params(checked=checked), run=fake(1, '', 'boom\n'))
    assert failed['failed'] and 'marked' not in failed and not (state / 'r2.checked').exists()
