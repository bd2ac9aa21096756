"""A site's certificate from an ACME CA (module_utils/acme.py): what pyfleet asks certbot and reads back."""
import datetime
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.pyfleet.deploy.plugins.module_utils import acme

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)


def certificate(names, not_after=NOW + datetime.timedelta(days=90)):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def write_lineage(config_dir, name, names, not_after=NOW + datetime.timedelta(days=90), renewal='version = 2.1.0\n[renewalparams]\n'):
    cert, key = certificate(names, not_after)
    live = os.path.join(config_dir, 'live', name)
    os.makedirs(live, exist_ok=True)
    for fname, data in (('cert.pem', cert), ('fullchain.pem', cert), ('privkey.pem', key)):
        with open(os.path.join(live, fname), 'wb') as fh:
            fh.write(data)
    os.makedirs(os.path.join(config_dir, 'renewal'), exist_ok=True)
    with open(os.path.join(config_dir, 'renewal', name + '.conf'), 'w') as fh:
        fh.write(renewal)


def test_a_lineage_is_read_with_its_names_and_expiry(tmp_path):
    write_lineage(str(tmp_path), 'pyfleet-shop', ['shop.example.com', 'www.shop.example.com'])
    found = acme.lineage(str(tmp_path), 'pyfleet-shop')
    assert found['present'] and found['names'] == ['shop.example.com', 'www.shop.example.com']
    assert found['not_after'] == NOW + datetime.timedelta(days=90)
    assert found['fullchain'] == str(tmp_path / 'live/pyfleet-shop/fullchain.pem')
    assert not acme.lineage(str(tmp_path), 'pyfleet-other')['present']


def test_a_lineage_without_its_key_is_not_there(tmp_path):
    write_lineage(str(tmp_path), 'pyfleet-shop', ['shop.example.com'])
    os.unlink(str(tmp_path / 'live/pyfleet-shop/privkey.pem'))
    assert not acme.lineage(str(tmp_path), 'pyfleet-shop')['present']


NEEDS = [
    ({'present': False}, ['a.example.com'], 'issue'),
    ({'present': True, 'names': ['a.example.com'], 'not_after': NOW + datetime.timedelta(days=1)}, ['a.example.com'], ''),
    # due for renewal but not expired: the timer's job, not the deploy's
    ({'present': True, 'names': ['a.example.com'], 'not_after': NOW + datetime.timedelta(hours=1)}, ['A.example.com'], ''),
    ({'present': True, 'names': ['a.example.com'], 'not_after': NOW}, ['a.example.com'], 'expired'),
    ({'present': True, 'names': ['a.example.com'], 'not_after': NOW + datetime.timedelta(days=9)}, ['a.example.com', 'b.example.com'], 'names'),
    ({'present': True, 'names': ['a.example.com', 'b.example.com'], 'not_after': NOW + datetime.timedelta(days=9)}, ['b.example.com'], 'names'),
]


@pytest.mark.parametrize('found,names,why', NEEDS)
def test_a_deploy_asks_the_ca_only_when_the_lineage_lacks_a_name_or_expired(found, names, why):
    assert acme.needs(found, names, NOW) == why


def test_certonly_with_a_webroot_and_an_email():
    argv = acme.certonly_argv('certbot', 'pyfleet-shop', ['shop.example.com', 'www.shop.example.com'],
                              'https://ca.test/dir', 'ops@example.com', 'webroot', webroot='/var/www/pyfleet-acme',
                              deploy_hook='/etc/letsencrypt/pyfleet-hooks/pyfleet-shop')
    assert argv[:3] == ['certbot', 'certonly', '--non-interactive']
    assert argv[argv.index('--cert-name') + 1] == 'pyfleet-shop'
    assert argv[argv.index('--server') + 1] == 'https://ca.test/dir'
    assert argv[argv.index('--email') + 1] == 'ops@example.com'
    assert argv[argv.index('--webroot-path') + 1] == '/var/www/pyfleet-acme'
    assert argv[argv.index('--deploy-hook') + 1] == '/etc/letsencrypt/pyfleet-hooks/pyfleet-shop'
    assert [argv[i + 1] for i, a in enumerate(argv) if a == '--domain'] == ['shop.example.com', 'www.shop.example.com']
    assert '--keep-until-expiring' in argv and '--agree-tos' in argv


def test_certonly_standalone_behind_haproxy_without_an_email():
    argv = acme.certonly_argv('certbot', 'pyfleet-shop', ['shop.example.com'], '', '', 'standalone',
                              http_port=8402, http_address='127.0.0.1')
    assert argv[argv.index('--server') + 1] == acme.LETS_ENCRYPT
    assert '--register-unsafely-without-email' in argv and '--email' not in argv
    assert argv[argv.index('--standalone') + 1:argv.index('--standalone') + 5] == ['--http-01-port', '8402', '--http-01-address', '127.0.0.1']
    with pytest.raises(ValueError):
        acme.certonly_argv('certbot', 'x', ['a.b'], '', '', 'dns')


RENEWAL = '# renew_before_expiry = 30 days\nversion = 2.1.0\narchive_dir = /x\n\n# Options used in the renewal process\n[renewalparams]\nserver = https://ca\n'


def test_the_renewal_file_renews_ahead_as_asked_and_once():
    once = acme.with_renew_before(RENEWAL, 20)
    assert once.splitlines()[4:7] == ['# Options used in the renewal process', 'renew_before_expiry = 20 days', '[renewalparams]']
    assert acme.with_renew_before(once, 20) == once
    again = acme.with_renew_before(once, 45)
    assert 'renew_before_expiry = 45 days' in again and 'renew_before_expiry = 20 days' not in again
    assert again.count('\nrenew_before_expiry =') == 1 and again.startswith('# renew_before_expiry = 30 days')


CONNECTION = '''Saving debug log to /var/log/letsencrypt/letsencrypt.log
Requesting a certificate for solo.pyfleet.test and gone.pyfleet.test

Certbot failed to authenticate some domains (authenticator: webroot). The Certificate Authority reported these problems:
  Domain: gone.pyfleet.test
  Type:   connection
  Detail: 10.231.101.1: Fetching http://gone.pyfleet.test/.well-known/acme-challenge/x: Connection refused

Hint: The Certificate Authority failed to download the temporary challenge files created by Certbot.
'''
DNS = CONNECTION.replace('Type:   connection', 'Type:   dns').replace(
    'Detail: 10.231.101.1: Fetching http://gone.pyfleet.test/.well-known/acme-challenge/x: Connection refused',
    'Detail: DNS problem: NXDOMAIN looking up A for gone.pyfleet.test - check that a DNS record exists for this domain')
UNAUTHORIZED = CONNECTION.replace('Type:   connection', 'Type:   unauthorized').replace('Connection refused', '404')
RATE = '''Saving debug log to /var/log/letsencrypt/letsencrypt.log
An unexpected error occurred:
Error creating new order :: too many certificates (5) already issued for this exact set of domains in the last 168 hours: shop.example.com, retry after 2026-12-08T00:00:00Z: see https://letsencrypt.org/docs/rate-limits/
'''
FAILURES = [
    (CONNECTION, 'port 80', 'open port 80 of web-1', ['gone.pyfleet.test'], 'Connection refused'),
    (DNS, 'dns', 'A/AAAA record', ['gone.pyfleet.test'], 'NXDOMAIN'),
    (UNAUTHORIZED, 'not this host', 'another machine', ['gone.pyfleet.test'], '404'),
    (RATE, 'rate limit', 'staging directory', ['shop.example.com'], 'too many certificates'),
    ('something else entirely\n', 'certbot', 'letsencrypt.log', ['shop.example.com'], 'something else entirely'),
]


@pytest.mark.parametrize('output,cause,fix,names,detail', FAILURES)
def test_a_refusal_is_said_as_its_cause_and_fix(output, cause, fix, names, detail):
    why = acme.why_failed(output, ['shop.example.com'], 'web-1')
    assert why['cause'] == cause and fix in why['fix'] and why['names'] == names and detail in why['detail']


def params(tmp_path, **kw):
    p = {k: v.get('default') for k, v in acme.ARGUMENT_SPEC.items()}
    p.update(names=['shop.example.com'], cert_name='pyfleet-shop', config_dir=str(tmp_path), certbot='/usr/bin/certbot')
    p.update(kw)
    return p


def test_a_lineage_that_covers_the_names_asks_the_ca_nothing(tmp_path):
    write_lineage(str(tmp_path), 'pyfleet-shop', ['shop.example.com'], renewal=RENEWAL)

    def run(argv, timeout):
        raise AssertionError('certbot ran: %s' % argv)
    first = acme.run_task(params(tmp_path, renew_before_days=30), run=run, now=NOW)
    assert first['state'] == 'present' and first['changed']      # the renewal file learned how far ahead
    again = acme.run_task(params(tmp_path, renew_before_days=30), run=run, now=NOW)
    assert again['state'] == 'present' and not again['changed'] and again['certificate']['names'] == ['shop.example.com']


def test_a_missing_certificate_is_got_and_the_renewal_file_kept(tmp_path):
    calls = []

    def run(argv, timeout):
        calls.append(argv)
        write_lineage(str(tmp_path), 'pyfleet-shop', ['shop.example.com'], renewal=RENEWAL)
        return 0, 'Successfully received certificate.'
    out = acme.run_task(params(tmp_path, renew_before_days=12), run=run, now=NOW)
    assert out['changed'] and out['state'] == 'issued' and out['needed'] == 'issue' and len(calls) == 1
    assert '--config-dir' in calls[0] and out['certificate']['present']
    assert 'renew_before_expiry = 12 days' in (tmp_path / 'renewal/pyfleet-shop.conf').read_text()


def test_check_mode_says_it_would_get_one_and_runs_nothing(tmp_path):
    def run(argv, timeout):
        raise AssertionError('certbot ran')
    out = acme.run_task(params(tmp_path), check_mode=True, run=run, now=NOW)
    assert out == dict(changed=True, names=['shop.example.com'], needed='issue', state='would get',
                       certificate=out['certificate']) and not out['certificate']['present']


def test_a_refusal_keeps_the_old_certificate_and_is_said_once(tmp_path):
    write_lineage(str(tmp_path), 'pyfleet-shop', ['shop.example.com'], renewal=RENEWAL)
    out = acme.run_task(params(tmp_path, names=['shop.example.com', 'gone.pyfleet.test']),
                        run=lambda argv, timeout: (1, CONNECTION), now=NOW)
    assert not out.get('failed') and not out['changed'] and out['state'] == 'failed' and out['needed'] == 'names'
    assert out['failure']['cause'] == 'port 80' and out['certificate']['names'] == ['shop.example.com']
    assert len(out['warnings']) == 1
    assert 'keeps serving its certificate for shop.example.com until 2027-03-07' in out['warnings'][0]


def test_a_refusal_without_a_certificate_keeps_plain_http(tmp_path):
    out = acme.run_task(params(tmp_path), run=lambda argv, timeout: (1, RATE), now=NOW)
    assert out['state'] == 'failed' and out['failure']['cause'] == 'rate limit'
    assert out['warnings'][0].endswith('The site keeps serving plain HTTP.')


def test_another_certbot_running_is_waited_for(tmp_path):
    answers = [(1, acme.BUSY + '.'), (1, acme.BUSY + '.'), (0, 'ok')]

    def run(argv, timeout):
        rc, out = answers.pop(0)
        if rc == 0:
            write_lineage(str(tmp_path), 'pyfleet-shop', ['shop.example.com'])
        return rc, out
    slept = []
    out = acme.run_task(params(tmp_path), run=run, now=NOW, sleep=slept.append)
    assert out['state'] == 'issued' and slept == [2, 2]


@pytest.mark.parametrize('names', [[], ['_'], ['*.example.com'], ['localhost'], ['shop.example.com', 'bad name.com']])
def test_a_certificate_needs_real_dns_names(tmp_path, names):
    out = acme.run_task(params(tmp_path, names=names), run=lambda argv, timeout: (0, ''), now=NOW)
    assert out['failed'] and 'nginx_site_server_names' in out['msg']
