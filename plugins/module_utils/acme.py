# -*- coding: utf-8 -*-
# A site's certificate from an ACME CA (Let's Encrypt, or any RFC 8555 directory), got and renewed by
# certbot (Debian's package): one owner for what pyfleet asks certbot and what it reads back.
#
#   lineage(config_dir, cert_name)        what /etc/letsencrypt holds for the lineage: its names, its
#                                         expiry, the files a server points at
#   needs(found, names, now)              whether a deploy must ask the CA: none (it covers the names and
#                                         has not expired), issue, names (they changed), expired
#   certonly_argv(...)                    the one certbot command that gets (or replaces) the lineage
#   with_renew_before(text, days)         the lineage's renewal file, renewing that many days ahead
#   why_failed(output)                    certbot's failure, said as its cause (DNS, port 80, ...) and a fix
#
# Renewal is certbot's own timer (certbot.timer: `certbot renew`, twice a day), which reads the
# renewal file certonly wrote: the same authenticator, server and deploy hook, so a renewed
# certificate reaches the server (the hook checks its configuration before it reloads it).
# Plain Python (no Ansible), so the unit tests drive it directly.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import re

LETS_ENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory'

# certbot's "Type:" of a failed challenge (RFC 8555 error types, short form) -> what it means here
CAUSES = {
    'dns': ('dns', 'the CA could not resolve {names} (DNS): give each name an A/AAAA record that points at '
                   '{where}'),
    'connection': ('port 80', 'the CA could not connect to {names} on port 80: open port 80 of {where} to '
                              'the internet, and check that the names point at it'),
    'unauthorized': ('not this host', 'the CA reached {names} but not the challenge answer {where} serves: '
                                      'the names point at another machine, or something in front of it '
                                      'answers port 80'),
    'caa': ('caa', 'a CAA record of {names} forbids this CA: add the CA to it'),
    'rateLimited': ('rate limit', "the CA's rate limit was reached: wait (Let's Encrypt's limits reset within "
                                  'a week), or test against its staging directory'),
    'rejectedIdentifier': ('name refused', 'the CA does not issue for {names}: use names of a public domain'),
}


def lineage(config_dir, cert_name, load=None):
    """What the lineage holds: {'present', 'names', 'not_after' (UTC, aware), 'fullchain', 'privkey',
    'serial'}; 'present' False when there is no certificate (or it cannot be read)."""
    live = os.path.join(config_dir, 'live', cert_name)
    out = {'present': False, 'names': [], 'not_after': None, 'serial': '',
           'fullchain': os.path.join(live, 'fullchain.pem'), 'privkey': os.path.join(live, 'privkey.pem'),
           'renewal': os.path.join(config_dir, 'renewal', cert_name + '.conf')}
    try:
        with open(os.path.join(live, 'cert.pem'), 'rb') as fh:
            pem = fh.read()
    except (IOError, OSError):
        return out
    if not os.path.exists(out['privkey']) or not os.path.exists(out['fullchain']):
        return out
    info = (load or read_certificate)(pem)
    if info:
        out.update(info, present=True)
    return out


def read_certificate(pem):
    """names, not_after and serial of a PEM certificate (python3-cryptography, a dependency of certbot)."""
    try:
        from cryptography import x509
    except ImportError:
        return None
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    not_after = getattr(cert, 'not_valid_after_utc', None)
    if not_after is None:
        not_after = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return {'names': sorted(names), 'not_after': not_after, 'serial': '%x' % cert.serial_number}


def needs(found, names, now):
    """Why a deploy asks the CA: '' (the lineage covers exactly the names and has not expired; renewing
    ahead of expiry is certbot's timer's), 'issue', 'names' or 'expired'."""
    if not found.get('present'):
        return 'issue'
    if sorted(set(n.lower() for n in names)) != sorted(set(n.lower() for n in found['names'])):
        return 'names'
    if found['not_after'] is not None and found['not_after'] <= now:
        return 'expired'
    return ''


def certonly_argv(certbot, cert_name, names, directory, email, authenticator, webroot='', http_port=80,
                  http_address='', deploy_hook='', config_dir=''):
    """certbot's certonly for the lineage: non-interactive, replacing the lineage's names when they
    changed (--cert-name), keeping a certificate that is not due (a rerun asks the CA nothing)."""
    argv = [certbot, 'certonly', '--non-interactive', '--agree-tos', '--cert-name', cert_name,
            '--server', directory or LETS_ENCRYPT, '--keep-until-expiring', '--no-random-sleep-on-renew']
    argv += ['--email', email] if email else ['--register-unsafely-without-email']
    if config_dir:
        argv += ['--config-dir', config_dir]
    if authenticator == 'webroot':
        argv += ['--webroot', '--webroot-path', webroot]
    elif authenticator == 'standalone':
        argv += ['--standalone', '--http-01-port', str(http_port)]
        if http_address:
            argv += ['--http-01-address', http_address]
    else:
        raise ValueError('authenticator must be webroot or standalone, not %r' % (authenticator,))
    if deploy_hook:
        argv += ['--deploy-hook', deploy_hook]
    for name in names:
        argv += ['--domain', name]
    return argv


_RENEW = re.compile(r'^\s*renew_before_expiry\s*=.*$')


def with_renew_before(text, days):
    """The renewal file with `renew_before_expiry = N days` among its top-level keys (before any
    [section]); unchanged text when it already says so."""
    line = 'renew_before_expiry = %d days' % int(days)
    lines = text.splitlines()
    top = next((i for i, l in enumerate(lines) if l.strip().startswith('[')), len(lines))
    for i in range(top):
        if _RENEW.match(lines[i]):
            lines[i] = line
            break
    else:
        lines.insert(top, line)
    out = '\n'.join(lines) + '\n'
    return out


_BOILERPLATE = ('Saving debug log', 'Requesting a certificate', 'An unexpected error occurred', 'Ask for help',
                'Some challenges have failed', 'Hint:', 'See the logfile')
_TYPE = re.compile(r'^\s*Type:\s*(\S+)', re.M)
_DOMAIN = re.compile(r'^\s*Domain:\s*(\S+)', re.M)
_DETAIL = re.compile(r'^\s*Detail:\s*(.+)$', re.M)


def why_failed(output, names, where='this host'):
    """certbot's failed run, as {'cause', 'fix', 'detail'}: what went wrong said as its cause (the
    challenge's error type, or a rate limit), the names it concerns and what to do."""
    kinds = _TYPE.findall(output)
    if 'rateLimited' in output or 'too many certificates' in output.lower() or 'too many failed' in output.lower():
        kind = 'rateLimited'
    elif kinds:
        kind = kinds[0].split(':')[-1]
    elif 'NXDOMAIN' in output or 'DNS problem' in output:
        kind = 'dns'
    else:
        kind = ''
    failed = _DOMAIN.findall(output) or list(names)
    details = _DETAIL.findall(output)
    said = [l.strip() for l in output.splitlines()
            if l.strip() and not l.startswith(_BOILERPLATE) and not l.strip().startswith(_BOILERPLATE)]
    detail = details[0].strip() if details else next(
        (l for l in said if '::' in l or 'error' in l.lower()), said[0] if said else '')
    cause, fix = CAUSES.get(kind, ('certbot', 'certbot could not get the certificate; see its log, '
                                               '/var/log/letsencrypt/letsencrypt.log'))
    return {'cause': cause, 'fix': fix.format(names=', '.join(failed), where=where), 'detail': detail,
            'names': failed}


ARGUMENT_SPEC = dict(
    names=dict(type='list', elements='str', required=True),
    cert_name=dict(type='str', required=True),
    directory=dict(type='str', default=LETS_ENCRYPT),
    email=dict(type='str', default=''),
    authenticator=dict(type='str', choices=['webroot', 'standalone'], default='webroot'),
    webroot=dict(type='path', default='/var/www/pyfleet-acme'),
    http_port=dict(type='int', default=80),
    http_address=dict(type='str', default=''),
    deploy_hook=dict(type='path', default=''),
    renew_before_days=dict(type='int', default=30),
    config_dir=dict(type='path', default='/etc/letsencrypt'),
    certbot=dict(type='str', default='certbot'),
    serves=dict(type='str', default='this host'),
)

BUSY = 'Another instance of Certbot is already running'


def describe(found):
    """The lineage as the task returns it (dates as ISO text)."""
    return {'present': found['present'], 'names': found['names'], 'serial': found['serial'],
            'not_after': found['not_after'].isoformat() if found['not_after'] else '',
            'fullchain': found['fullchain'], 'privkey': found['privkey']}


def _keep_renew_before(found, days, check_mode):
    """The lineage's renewal file renews ``days`` ahead; True when it had to change."""
    try:
        with open(found['renewal']) as fh:
            text = fh.read()
    except (IOError, OSError):
        return False
    new = with_renew_before(text, days)
    if new == text:
        return False
    if not check_mode:
        tmp = found['renewal'] + '.pyfleet'
        with open(tmp, 'w') as fh:
            fh.write(new)
        os.chmod(tmp, os.stat(found['renewal']).st_mode & 0o777)
        os.rename(tmp, found['renewal'])
    return True


def _run(argv, timeout):
    import subprocess
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                              universal_newlines=True)
    except subprocess.TimeoutExpired as exc:
        return 124, (exc.output or '') + '\ncertbot did not end within %d s' % timeout
    return proc.returncode, proc.stdout


def run_task(p, check_mode=False, run=_run, now=None, sleep=None, load=None):
    """The lineage ``cert_name`` covers ``names``: present as it is, or got from the CA now (certonly). A CA
    that refuses leaves what was there (an older certificate, or none) and says why, as data and once as
    a warning; the task does not fail, so the site goes on serving what it served."""
    import shutil
    import time
    now = now or datetime.datetime.now(datetime.timezone.utc)
    names = [n.strip().lower() for n in p['names'] if n.strip()]
    bad = [n for n in names if n == '_' or '*' in n or not re.match(r'^[a-z0-9.-]+$', n) or '.' not in n]
    if not names or bad:
        return dict(failed=True, msg='pyfleet: a certificate from an ACME CA needs the DNS names of the site '
                    '(nginx_site_server_names); %s cannot be one. Set nginx_site_server_names to the names '
                    'that point at this host, e.g. ["shop.example.com"].' % (', '.join(repr(n) for n in bad) or 'none given'))
    found = lineage(p['config_dir'], p['cert_name'], load=load)
    why = needs(found, names, now)
    result = dict(changed=False, names=names, needed=why or 'none')
    if not why:
        result.update(changed=_keep_renew_before(found, p['renew_before_days'], check_mode), state='present',
                      certificate=describe(found))
        return result
    if check_mode:
        result.update(changed=True, state='would get', certificate=describe(found))
        return result
    if p['certbot'] == 'certbot' and not shutil.which('certbot'):
        return dict(failed=True, msg="pyfleet: certbot is not installed on this host (Debian's package certbot).")
    argv = certonly_argv(p['certbot'], p['cert_name'], names, p['directory'], p['email'], p['authenticator'],
                         webroot=p['webroot'], http_port=p['http_port'], http_address=p['http_address'],
                         deploy_hook=p['deploy_hook'],
                         config_dir=p['config_dir'] if p['config_dir'] != '/etc/letsencrypt' else '')
    deadline = time.time() + 300
    while True:    # one certbot at a time on a host (another app's deploy, the renewal timer): wait for it
        rc, out = run(argv, 600)
        if rc == 0 or BUSY not in out or time.time() > deadline:
            break
        (sleep or time.sleep)(2)
    if rc == 0:
        found = lineage(p['config_dir'], p['cert_name'], load=load)
        _keep_renew_before(found, p['renew_before_days'], False)
        result.update(changed=True, state='issued' if why == 'issue' else 'replaced', certificate=describe(found))
        return result
    failure = why_failed(out, names, p['serves'])
    keeps = ('its certificate for %s until %s' % (', '.join(found['names']), found['not_after'].date().isoformat())
             if found['present'] else 'plain HTTP')
    result.update(state='failed', certificate=describe(found), failure=failure,
                  warnings=['pyfleet: no certificate for %s from %s: %s. %s (certbot: %s) The site keeps serving %s.'
                            % (', '.join(names), p['directory'], failure['cause'], failure['fix'][0].upper() + failure['fix'][1:] + '.',
                               failure['detail'], keeps)])
    return result
