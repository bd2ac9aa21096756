"""The release archive's rules (plugins/module_utils/pack.py)."""
import hashlib
import io
import os
import tarfile
import time

import pytest

from ansible_collections.pyfleet.deploy.plugins.module_utils import pack
from helpers import write_tree


@pytest.mark.parametrize('rel,is_dir,patterns,out', [
    ('a/b/__pycache__', True, ['__pycache__'], True),
    ('x.pyc', False, ['*.pyc'], True),
    ('docs', True, ['docs/'], True),
    ('docs', False, ['docs/'], False),
    ('src/docs', True, ['/docs'], False),
    ('docs/a.md', False, ['docs/*.md'], True),
    # .gitignore's semantics: "*" does not cross "/", "**" does, "!" re-includes, a middle slash anchors
    ('docs/a/b.md', False, ['docs/*.md'], False),
    ('docs/a/b.md', False, ['docs/**/*.md'], True),
    ('keep.psd', False, ['*.psd', '!keep.psd'], False),
    ('src/docs/x.md', False, ['docs/*.md'], False),
    ('src/build', True, ['build/'], True),
    ('app.py', False, ['*.psd', '.git'], False),
])
def test_pack_exclude_patterns(rel, is_dir, patterns, out):
    assert pack.excluded(rel, is_dir, patterns) is out


def _members(data):
    import gzip
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        return [(m.name, m.mode, m.linkname) for m in tar.getmembers()], tar


def test_pack_is_reproducible_and_honours_excludes(tmp_path):
    src = write_tree(tmp_path / 'app', {'wsgi.py': 'application = 1\n', 'pkg/__init__.py': '',
                                        'pkg/__pycache__/x.pyc': b'\0', '.git/HEAD': 'ref\n', 'big.psd': 'x',
                                        'run.sh': '#!/bin/sh\n'})
    os.chmod(os.path.join(src, 'run.sh'), 0o755)
    excludes = ['.git', '__pycache__', '*.pyc', '*.psd']
    a, rid, n = pack.pack(src, excludes)
    os.utime(os.path.join(src, 'wsgi.py'), (time.time() + 100, time.time() + 100))
    b, rid_b, _ = pack.pack(src, excludes)
    assert a == b and rid == rid_b and n == 3 and len(rid) == 12
    members, _ = _members(a)
    assert [m[0] for m in members] == ['pkg', 'pkg/__init__.py', 'run.sh', 'wsgi.py', '.pyfleet-release']
    assert dict((m[0], m[1]) for m in members)['run.sh'] == 0o750
    assert dict((m[0], m[1]) for m in members)['wsgi.py'] == 0o640
    assert dict((m[0], m[1]) for m in members)['pkg'] == 0o750
    with open(os.path.join(src, 'wsgi.py'), 'w') as fh:
        fh.write('application = 2\n')
    c, rid_c, _ = pack.pack(src, excludes)
    assert c != a and rid_c != rid


def test_pack_links_come_last_and_are_part_of_the_release(tmp_path):
    import gzip
    src = write_tree(tmp_path / 'app', {'wsgi.py': 'application = 1\n', '.venv/bin/python': 'x',
                                        '.pyfleet-release': 'forged\n', 'sub/.venv/keep': 'y'})
    data, rid, _ = pack.pack(src, [], {'.venv': '/srv/a/venvs/one'})
    members, _ = _members(data)
    names = [m[0] for m in members]
    # the app's own .venv and marker at the root are not shipped; a nested .venv is the app's business
    assert names == ['sub', 'sub/.venv', 'sub/.venv/keep', 'wsgi.py', '.pyfleet-release', '.venv']
    assert members[-1][2] == '/srv/a/venvs/one'
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        assert tar.extractfile('.pyfleet-release').read() == (rid + '\n').encode()
    _, rid_other, _ = pack.pack(src, [], {'.venv': '/srv/a/venvs/two'})
    assert rid_other != rid
    assert pack.check_links({'a/b': 'x'}) and pack.check_links({'.pyfleet-release': 'x'})
    assert pack.check_links({'.venv': '/x'}) is None


def test_pack_release_writes_once(tmp_path):
    src = write_tree(tmp_path / 'app', {'wsgi.py': 'application = 1\n'})
    first = pack.pack_release(src, str(tmp_path / 'cache'), [], {'.venv': '/v'})
    again = pack.pack_release(src, str(tmp_path / 'cache'), [], {'.venv': '/v'})
    assert first['created'] and not again['created'] and first['id'] == again['id']
    with open(first['path'], 'rb') as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == first['sha256']
    with pytest.raises(ValueError):
        pack.pack_release(str(tmp_path / 'missing'), str(tmp_path / 'cache'))


def test_pack_task_reports_bad_input_as_a_failure(tmp_path):
    src = write_tree(tmp_path / 'app', {'wsgi.py': 'application = 1\n'})
    params = {'src': src, 'dest': str(tmp_path / 'cache'), 'exclude': [], 'links': {'a/b': '/x'}, 'keep': 0}
    assert pack.run_task(params)['failed'] and 'plain names' in pack.run_task(params)['msg']
    params.update(links={}, src=str(tmp_path / 'missing'))
    assert pack.run_task(params) == {'failed': True, 'msg': 'pyfleet.deploy.pack: %s is not a directory' % params['src']}
    params.update(src=src)
    ok = pack.run_task(params)
    assert ok['changed'] is False and ok['created'] and 'failed' not in ok


def test_pack_keeps_private_files_private(tmp_path):
    src = write_tree(tmp_path / 'app', {'wsgi.py': 'application = 1\n', '.env': 'KEY=secret\n', 'bin/run': 'x',
                                        'keys/id': 'k', 'open.txt': 'x'})
    os.chmod(os.path.join(src, '.env'), 0o600)
    os.chmod(os.path.join(src, 'bin/run'), 0o700)
    os.chmod(os.path.join(src, 'keys'), 0o700)
    os.chmod(os.path.join(src, 'open.txt'), 0o666)
    members, _ = _members(pack.pack(src, [])[0])
    modes = dict((m[0], m[1]) for m in members)
    assert modes == {'.env': 0o600, 'bin': 0o750, 'bin/run': 0o700, 'keys': 0o700, 'keys/id': 0o640,
                     'open.txt': 0o640, 'wsgi.py': 0o640, '.pyfleet-release': 0o640}


def test_pack_never_follows_a_link_out_of_the_tree(tmp_path):
    outside = write_tree(tmp_path / 'other', {'env': 'SECRET=1\n'})
    src = write_tree(tmp_path / 'app', {'wsgi.py': 'application = 1\n', 'static/logo.png': 'png',
                                        'assets/site.css': 'css'})
    os.symlink('../assets/site.css', os.path.join(src, 'static/site.css'))          # relative, inside
    os.symlink(os.path.join(src, 'static/logo.png'), os.path.join(src, 'logo.png'))  # absolute, inside
    os.symlink('assets', os.path.join(src, 'styles'))                                # a directory, inside
    members, _ = _members(pack.pack(src, [])[0])
    links = dict((m[0], m[2]) for m in members if m[2])
    assert links == {'static/site.css': '../assets/site.css', 'logo.png': 'static/logo.png', 'styles': 'assets'}
    assert pack.tree_problems(src, []) == []
    for name, target in (('shadow', '/etc/shadow'), ('peer', os.path.join(outside, 'env')),
                         ('up', '../other/env'), ('chain', 'hop')):
        if name == 'chain':
            os.symlink('../../other/env', os.path.join(src, 'static/hop'))
        os.symlink(target, os.path.join(src, 'static', name) if name != 'up' else os.path.join(src, name))
    problems = pack.tree_problems(src, [])
    assert sorted(p[0] for p in problems) == ['static/chain', 'static/hop', 'static/peer', 'static/shadow', 'up']
    assert dict((p[0], p[1]) for p in problems)['static/shadow'].startswith(
        'static/shadow is a link to /etc/shadow, outside the app source.')
    assert all('Copy the file into the app' in p[2] for p in problems)
    with pytest.raises(ValueError, match='outside the app source'):
        pack.pack(src, [])
    # an excluded link is not shipped, so it is no problem
    assert pack.tree_problems(src, ['static/', 'up']) == []
    os.mkfifo(os.path.join(src, 'pipe'))
    assert [p[0] for p in pack.tree_problems(src, ['static/', 'up'])] == ['pipe']
    with pytest.raises(ValueError, match='not a regular file'):
        pack.pack(src, ['static/', 'up'])


def test_pack_cache_is_private_and_pruned(tmp_path):
    src = write_tree(tmp_path / 'app', {'wsgi.py': 'application = 0\n'})
    cache = str(tmp_path / 'cache')
    made = []
    for n in range(4):
        with open(os.path.join(src, 'wsgi.py'), 'w') as fh:
            fh.write('application = %d\n' % n)
        res = pack.pack_release(src, cache, [], {'.venv': '/v'}, keep=2)
        made.append(os.path.basename(res['path']))
        os.utime(res['path'], (time.time() - 100 + n, time.time() - 100 + n))
        assert oct(os.stat(res['path']).st_mode & 0o777) == oct(0o600)
    assert oct(os.stat(cache).st_mode & 0o777) == oct(0o700)
    assert sorted(os.listdir(cache)) == sorted(made[-2:]) and res['pruned'] == [made[1]]
    # packing an older release again makes it the most recent one
    with open(os.path.join(src, 'wsgi.py'), 'w') as fh:
        fh.write('application = 2\n')
    again = pack.pack_release(src, cache, [], {'.venv': '/v'}, keep=1)
    assert not again['created'] and os.listdir(cache) == [made[2]] and again['pruned'] == [made[3]]


def test_the_fast_matcher_answers_as_gitignore_does():
    import pathspec
    patterns = ['.git', '__pycache__', '*.pyc', '/.venv', 'docs/*.md', 'build/', '/static/**/*.map', 'a?c', '[Tt]mp']
    paths = ['.git', 'x/.git', 'x/.git/config', 'a/__pycache__/m.pyc', 'm.pyc', '.venv/', 'sub/.venv/',
             'docs/a.md', 'docs/a/b.md', 'src/docs/a.md', 'build/', 'build', 'x/build/', 'static/js/a.map',
             'static/a.map', 'other/static/x/a.map', 'abc', 'x/abc', 'abcd', 'Tmp/', 'tmp', 'app.py']
    fast = pack.compile_patterns(patterns)
    slow = pathspec.GitIgnoreSpec.from_lines(patterns)
    assert not isinstance(fast, pathspec.GitIgnoreSpec)
    assert [fast.match_file(p) for p in paths] == [slow.match_file(p) for p in paths]
    assert isinstance(pack.compile_patterns(patterns + ['!keep.pyc']), pathspec.GitIgnoreSpec)


def test_a_link_loop_is_a_finding_that_names_it_not_a_crash(tmp_path):
    from ansible_collections.pyfleet.deploy.plugins.module_utils import pack
    (tmp_path / 'requirements.txt').write_text('flask==3.1.3\n')
    os.symlink('loop2', str(tmp_path / 'loop1'))
    os.symlink('loop1', str(tmp_path / 'loop2'))
    (tmp_path / 'sub').mkdir()
    os.symlink('../sub', str(tmp_path / 'sub' / 'self'))      # a link to a directory of the tree: no loop to stat
    found = pack.tree_problems(str(tmp_path), [])
    assert [rel for rel, _, _ in found] == ['loop1', 'loop2']
    assert found[0][1].startswith('loop1 is a link that leads back to itself (a loop of links: loop1 -> loop2)')
    assert found[0][2].startswith('Remove the link (rm loop1)')
