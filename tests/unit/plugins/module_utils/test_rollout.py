"""Where a rolling deploy stands (module_utils/rollout.py): when it stops, who goes back and to what, table-driven."""
import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils.rollout import batches, rollout, said


def ok(batch, serves='r2', before='r1', switched=True):
    return {'reported': {'outcome': 'deployed', 'batch': batch, 'switched': switched, 'serves': serves,
                         'served_before': before}, 'failed': None}


def bad(batch):
    return {'reported': {'outcome': 'failed', 'batch': batch, 'switched': False, 'serves': ''},
            'failed': {'task': 'Switch to the release', 'msg': 'did not answer as healthy'}}


NONE = {'reported': None, 'failed': None}

CASES = [
    # name, hosts, max_fail_percentage, stopped, back, stays, not_reached
    ('all went through', {'a': ok(['a']), 'b': ok(['b', 'c']), 'c': ok(['b', 'c'])}, 0, False, {}, {}, []),
    ('the canary failed: nothing switched, the rest never reached',
     {'a': bad(['a']), 'b': NONE, 'c': NONE}, 0, True, {}, {}, ['b', 'c']),
    ('the last batch failed: the earlier ones go back',
     {'a': ok(['a']), 'b': ok(['b']), 'c': bad(['c'])}, 0, True, {'a': 'r1', 'b': 'r1'}, {}, []),
    ('one of a batch of two failed: its batch mate goes back too, the next batch is never reached',
     {'a': ok(['a']), 'b': ok(['b', 'c']), 'c': bad(['b', 'c']), 'd': NONE}, 0, True,
     {'a': 'r1', 'b': 'r1'}, {}, ['d']),
    ('within the percentage: the rollout goes on, nobody goes back',
     {'a': ok(['a', 'b']), 'b': bad(['a', 'b']), 'c': ok(['c', 'd']), 'd': ok(['c', 'd'])}, 50, False, {}, {}, []),
    ('over the percentage', {'a': bad(['a', 'b']), 'b': bad(['a', 'b']), 'c': NONE}, 50, True, {}, {}, ['c']),
    ('a first deploy and a new configuration only cannot go back; a host that did not switch stays as it is',
     {'a': ok(['a'], before=''), 'b': ok(['b'], serves='r1', before='r1'), 'e': ok(['e'], switched=False),
      'c': bad(['c'])}, 0, True, {},
     {'a': 'nothing served on it before this run',
      'b': 'its switch restarted the release it served (a new configuration only)'}, []),
]


@pytest.mark.parametrize('name,hosts,pct,stopped,back,stays,not_reached', CASES, ids=[c[0] for c in CASES])
def test_rollout(name, hosts, pct, stopped, back, stays, not_reached):
    state = rollout(hosts, pct)
    assert (state['stopped'], state['back'], state['stays'], state['not_reached']) == (stopped, back, stays, not_reached)
    assert set(state['failed']) == {n for n, h in hosts.items() if h['failed']}
    assert state['lost'] == [] and state['fail_on'] == [n for n, h in hosts.items() if h['failed']]


def test_said_names_the_failed_host_and_where_the_fleet_stands_but_not_the_error_again():
    state = rollout({'a': ok(['a']), 'b': ok(['b']), 'c': bad(['c']), 'd': NONE}, 0)
    text = said(state)
    assert text.startswith("pyfleet: the deploy failed on c at 'Switch to the release' (said above")
    assert 'The rollout stopped there.' in text and 'a (r1), b (r1)' in text and 'Never reached' in text and 'd' in text
    assert 'did not answer' not in text         # said once, by the task that failed


def test_said_is_empty_when_no_host_failed_and_says_a_tolerated_failure():
    assert said(rollout({'a': ok(['a'])}, 0)) == ''
    assert 'the rollout went on' in said(rollout({'a': bad(['a', 'b']), 'b': ok(['a', 'b'])}, 50))


def test_a_host_that_went_back_counts_among_those_that_go_back_at_what_it_serves():
    went = {'reported': {'outcome': 'went back', 'batch': ['a'], 'switched': True, 'serves': 'r1',
                         'served_before': 'r1'}, 'failed': None}
    assert rollout({'a': went, 'c': bad(['c'])}, 0)['back'] == {'a': 'r1'}


def test_one_host_alone_says_no_rollout():
    text = said(rollout({'a': bad(['a'])}, 0))
    assert text == "pyfleet: the deploy failed on a at 'Switch to the release' (said above, where it failed)."


# ---------------------------------------------------------------- the batches, as serial cuts them
SERIALS = [[1, '25%'], 1, 2, '50%', '30%', '100%', 0, [], [1, 2], [2, '10%'], '3', ['1', '34%'], -1]


@pytest.mark.parametrize('count', [1, 2, 3, 4, 7, 10])
@pytest.mark.parametrize('serial', SERIALS, ids=[repr(s) for s in SERIALS])
def test_batches_are_cut_as_ansible_cuts_a_serial_play(serial, count):
    """Ansible itself says how serial cuts a play's hosts: its own playbook executor, on the same hosts."""
    from ansible.executor.playbook_executor import PlaybookExecutor
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play import Play
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[])
    names = ['h%d' % i for i in range(count)]
    for name in names:
        inventory.add_host(name, group='all')
    variables = VariableManager(loader=loader, inventory=inventory)
    play = Play.load({'hosts': 'all', 'serial': serial, 'gather_facts': False}, variable_manager=variables, loader=loader)
    play.post_validate(Templar(loader))      # serial as the play has it: always a list
    executor = PlaybookExecutor.__new__(PlaybookExecutor)
    executor._inventory = inventory
    want = [[h.name for h in batch] for batch in executor._get_serialized_batches(play)]
    assert batches(names, serial) == want


def test_batches_refuse_what_serial_cannot_take_naming_the_input():
    with pytest.raises(ValueError, match=r'pyfleet_batch is .abc.: give the app hosts switched at a time'):
        batches(['a', 'b'], 'abc')


# ---------------------------------------------------------------- a lost host (no word since its batch started)
def test_a_host_that_left_no_word_in_a_batch_that_started_is_lost_and_stops_the_rollout():
    hosts = {'a': ok(['a']), 'b': NONE, 'c': NONE}
    state = rollout(hosts, 0, [['a'], ['b'], ['c']])
    assert state['stopped'] and state['back'] == {'a': 'r1'} and state['not_reached'] == ['c']
    assert state['failed']['b']['lost'] and state['lost'] == ['b'] and state['fail_on'] == ['localhost']
    text = said(state)
    assert 'b could not be reached during its deploy' in text and 'a (r1)' in text and 'Never reached' in text


def test_only_the_batches_that_started_can_lose_a_host():
    # the start of the second batch: the first went through, the second has said nothing yet
    assert not rollout({'a': ok(['a']), 'b': NONE, 'c': NONE}, 0, [['a']])['stopped']
    # the canary was lost: nothing else starts, nothing goes back
    state = rollout({'a': NONE, 'b': NONE}, 0, [['a'], ['b']])
    assert state['stopped'] and state['back'] == {} and list(state['failed']) == ['a'] and state['not_reached'] == ['b']


def test_a_lost_host_within_the_percentage_lets_the_rollout_go_on():
    hosts = {'a': ok(['a', 'b']), 'b': NONE, 'c': ok(['c', 'd']), 'd': ok(['c', 'd'])}
    state = rollout(hosts, 50, [['a', 'b'], ['c', 'd']])
    assert not state['stopped'] and list(state['failed']) == ['b'] and state['back'] == {}
    assert 'the rollout went on' in said(state)
