"""A Flask demo that reads MySQL on /db (DATABASE_URL: mysql://user:password@host/name); / needs nothing."""
import os
from urllib.parse import urlparse

from flask import Flask, jsonify

app = Flask(__name__)
application = app


@app.route('/')
def index():
    return 'Hello from a Flask app with a native dependency (mysqlclient)\n'


@app.route('/db')
def db():
    import MySQLdb   # mysqlclient, built on the host

    url = urlparse(os.environ['DATABASE_URL'])
    conn = MySQLdb.connect(host=url.hostname, port=url.port or 3306, user=url.username, passwd=url.password or '',
                           db=url.path.lstrip('/'))
    try:
        cur = conn.cursor()
        cur.execute('SELECT VERSION()')
        return jsonify(mysql=cur.fetchone()[0])
    finally:
        conn.close()
