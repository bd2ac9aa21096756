"""The app's environment file and config.yml's changes (module_utils/appconfig.py), table-driven."""
import json
import os

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import appconfig

ENVS = [
    ({}, ''),
    ({'B': 'two', 'A': 'one'}, 'A="one"\nB="two"\n'),
    ({'DEBUG': True, 'OFF': False, 'N': 3, 'F': 1.5}, 'DEBUG="true"\nF="1.5"\nN="3"\nOFF="false"\n'),
    ({'Q': 'say "hi"', 'S': 'a\\b', 'E': ''}, 'E=""\nQ="say \\"hi\\""\nS="a\\\\b"\n'),
    ({'U': 'ünïcode $HOME %i'}, 'U="ünïcode $HOME %i"\n'),
]


@pytest.mark.parametrize('env,text', ENVS)
def test_the_environment_file_is_written_and_read_back_as_it_was(env, text):
    assert appconfig.render(env) == text
    assert appconfig.parse('# a header\n\n' + text) == {k: appconfig.value_text(v) for k, v in env.items()}


def test_a_line_of_another_form_is_named():
    with pytest.raises(ValueError, match='line 2 is not NAME="value"'):
        appconfig.parse('A="1"\nB=2\n')


CHANGES = [
    # kept, set, unset, kept after
    (appconfig.EMPTY, {'A': 1}, [], {'set': {'A': '1'}, 'unset': [], 'scale': {}}),
    ({'set': {'A': '1'}, 'unset': []}, {}, ['A'], {'set': {}, 'unset': ['A'], 'scale': {}}),
    ({'set': {}, 'unset': ['A']}, {'A': 'back'}, [], {'set': {'A': 'back'}, 'unset': [], 'scale': {}}),
    ({'set': {'A': '1'}, 'unset': ['Z'], 'scale': {'worker': 2}}, {'B': True}, ['C'],
     {'set': {'A': '1', 'B': 'true'}, 'unset': ['C', 'Z'], 'scale': {'worker': 2}}),
]


@pytest.mark.parametrize('kept,set_,unset,after', CHANGES)
def test_a_name_set_is_no_longer_unset_and_the_other_way_round(kept, set_, unset, after):
    assert appconfig.change(kept, set_, unset) == after


def test_config_yml_wins_over_the_inventory():
    env = {'A': 'inventory', 'B': 'inventory', 'C': 'kept'}
    assert appconfig.apply(env, {'set': {'A': 'operator', 'D': 'new'}, 'unset': ['B', 'X']}) == \
        {'A': 'operator', 'C': 'kept', 'D': 'new'}
    assert appconfig.apply(env, appconfig.EMPTY) == env


def make(tmp_path, env='A="1"\nB="2"\n', kept=None):
    d = tmp_path / 'etc' / 'shop'
    d.mkdir(parents=True)
    (d / 'env').write_text('# Ansible managed\n# The environment of every shop process\n' + env)
    if kept is not None:
        (d / 'config.json').write_text(json.dumps(kept))
    return dict(action='show', env_dir=str(d), set={}, unset=[], scale={})


def test_show_names_every_name_and_what_config_yml_did_never_a_value(tmp_path):
    p = make(tmp_path, kept={'set': {'B': 'secret-value'}, 'unset': ['GONE']})
    res = appconfig.run_task(p)
    assert res['changed'] is False and res['names'] == ['A', 'B']
    assert res['lines'] == ['A', 'B (set by config.yml)', 'GONE (unset by config.yml)']
    assert 'secret-value' not in json.dumps(res)


def test_change_rewrites_the_environment_and_keep_keeps_it_for_later_deploys(tmp_path):
    p = dict(make(tmp_path), set={'C': 'new "one"'}, unset=['A'])
    env_file, kept_file = os.path.join(p['env_dir'], 'env'), os.path.join(p['env_dir'], 'config.json')
    # check mode says it would change, and writes nothing
    assert appconfig.run_task(dict(p, action='change'), check_mode=True)['changed'] is True
    assert 'C=' not in open(env_file).read()
    res = appconfig.run_task(dict(p, action='change'))
    assert res['changed'] and res['names'] == ['B', 'C'] and not os.path.exists(kept_file)
    text = open(env_file).read()
    assert text.startswith('# Ansible managed\n# The environment of every shop process\n')
    assert appconfig.parse(text) == {'B': '2', 'C': 'new "one"'} and oct(os.stat(env_file).st_mode & 0o777) == '0o600'
    assert appconfig.run_task(dict(p, action='change'))['changed'] is False
    res = appconfig.run_task(dict(p, action='keep'))
    assert res['changed'] and appconfig.load(kept_file) == {'set': {'C': 'new "one"'}, 'unset': ['A'], 'scale': {}}
    assert oct(os.stat(kept_file).st_mode & 0o777) == '0o600'
    assert appconfig.run_task(dict(p, action='keep'))['changed'] is False


@pytest.mark.parametrize('set_,unset,said', [
    ({'1BAD': 'x'}, [], "'1BAD' cannot name an environment variable"),
    ({}, ['A-B'], "'A-B' cannot name"),
    ({'A': '1'}, ['A'], 'A is both set and unset'),
])
def test_a_name_an_environment_cannot_hold_is_refused(tmp_path, set_, unset, said):
    res = appconfig.run_task(dict(make(tmp_path), action='change', set=set_, unset=unset))
    assert res['failed'] and said in res['msg']


def test_an_app_with_no_environment_file_is_refused(tmp_path):
    res = appconfig.run_task(dict(action='show', env_dir=str(tmp_path / 'nothing'), set={}, unset=[]))
    assert res['failed'] and 'no app named nothing is deployed here' in res['msg'] and '-e app_name=NAME' in res['msg']


def test_a_value_set_again_as_the_file_holds_it_changes_nothing(tmp_path):
    p = make(tmp_path, env='DEBUG="true"\nN="3"\n')
    assert appconfig.run_task(dict(p, action='change', set={'DEBUG': True, 'N': 3}))['changed'] is False
    assert appconfig.run_task(dict(p, action='change', set={'N': 4}))['changed'] is True
    assert appconfig.parse(open(os.path.join(p['env_dir'], 'env')).read()) == {'DEBUG': 'true', 'N': '4'}


def test_scale_yml_counts_are_kept_beside_the_environment_and_a_null_drops_one(tmp_path):
    p = make(tmp_path, kept={'set': {'B': '3'}, 'unset': []})
    kept_file = os.path.join(p['env_dir'], 'config.json')
    before = open(kept_file).read()
    res = appconfig.run_task(dict(p, action='keep', scale={'worker': 3, 'clock': 0}))
    assert res['changed'] and res['operator_scale'] == {'clock': 0, 'worker': 3}
    assert appconfig.load(kept_file) == {'set': {'B': '3'}, 'unset': [], 'scale': {'clock': 0, 'worker': 3}}
    assert appconfig.run_task(dict(p, action='keep', scale={'worker': 3}))['changed'] is False
    res = appconfig.run_task(dict(p, action='keep', scale={'worker': None, 'clock': None}))
    assert res['changed'] and res['operator_scale'] == {}
    # without counts the file is as config.yml alone writes it
    assert appconfig.dump(appconfig.load(kept_file)) == appconfig.dump(appconfig.load_text(before))
    assert '"scale"' not in open(kept_file).read()


@pytest.mark.parametrize('scale', [{'worker': -1}, {'worker': 'many'}, {'worker': True}, {'worker': 101}])
def test_a_count_must_be_a_whole_number(tmp_path, scale):
    res = appconfig.run_task(dict(make(tmp_path), action='keep', scale=scale))
    assert res['failed'] and 'worker' in res['msg']
    with pytest.raises(ValueError):
        appconfig.load_text(json.dumps({'set': {}, 'unset': [], 'scale': scale}))
