"""A report of several lines is said once (plugin_utils/said_once.py)."""
from ansible.module_utils._internal import _messages

from ansible_collections.pyfleet.deploy.plugins.plugin_utils.said_once import said_once

REPORT = 'pyfleet: the build step "Import the WSGI app" failed (exit 1).\nTraceback\nRuntimeError: boom'


def summary(msg):
    """What ansible-core 2.19 makes of a failed module's message: the error it prints, as lines."""
    return _messages.ErrorSummary(event=_messages.Event(msg=msg))


def test_the_result_keeps_the_first_line_when_ansible_core_prints_the_report_as_the_error():
    res = said_once({'failed': True, 'rc': 1, 'msg': REPORT, 'exception': summary(REPORT)})
    assert res['msg'] == 'pyfleet: the build step "Import the WSGI app" failed (exit 1).'
    assert res['exception'].event.msg == REPORT      # the whole report, printed once, as lines


def test_the_report_is_left_whole_where_nothing_else_prints_it():
    # an older ansible-core: no error summary (or a traceback string); a success; a one-line failure
    for res in ({'failed': True, 'msg': REPORT}, {'failed': True, 'msg': REPORT, 'exception': 'Traceback...'},
                {'failed': False, 'msg': REPORT, 'exception': summary(REPORT)},
                {'failed': True, 'msg': 'one line', 'exception': summary('one line')}):
        assert said_once(dict(res))['msg'] == res['msg']


def test_a_failure_found_on_the_controller_becomes_the_error_and_its_first_line_the_message():
    from ansible_collections.pyfleet.deploy.plugins.plugin_utils.said_once import said_once_here
    res = said_once_here({'failed': True, 'msg': 'The app cannot be deployed (1 error(s)):\nruntime.txt:1: error'})
    assert res['msg'] == 'The app cannot be deployed (1 error(s)):'
    assert res['exception'].event.msg.splitlines() == ['The app cannot be deployed (1 error(s)):', 'runtime.txt:1: error']
    assert said_once_here({'failed': True, 'msg': 'one line'}) == {'failed': True, 'msg': 'one line'}
    assert 'exception' not in said_once_here({'changed': False, 'msg': 'fine\nand more'})


def test_a_hooks_output_is_shown_as_heroku_shows_it():
    from ansible_collections.pyfleet.deploy.plugins.plugin_utils.said_once import shown
    said = shown('Running bin/post_compile', 'web-1', {'stdout': 'compiling assets\ndone\n', 'stderr': 'a warning\n'})
    assert said.splitlines() == ['-----> Running bin/post_compile [web-1]', '       compiling assets', '       done',
                                 '       a warning']
    assert shown('Running bin/pre_compile', 'web-1', {'stdout': '\n', 'stderr': ''}) == ''
