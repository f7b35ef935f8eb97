#!/usr/bin/env bash
# Once, after the first `kubectl apply -k`: makes mongo-0..2 the replica set rs0 and creates the
# root user and the nodes' user, through MongoDB's localhost exception inside mongo-0 (the only
# way in before a user exists). Idempotent: an initiated set and existing users are left alone.
set -euo pipefail
ns=${NAMESPACE:-mysimbdp}
secret() { kubectl -n "$ns" get secret mongo-credentials -o "jsonpath={.data.$1}" | base64 -d; }
kubectl -n "$ns" rollout status statefulset/mongo --timeout=10m

# The script goes in on stdin, so no password shows in a process list.
kubectl -n "$ns" exec -i mongo-0 -c mongo -- mongosh --quiet --norc <<JS
try { rs.status(); print('rs0 already initiated') } catch (e) {
  if (e.codeName === 'Unauthorized') { print('rs0 already initiated (auth on)'); quit(0) }
  rs.initiate({_id: 'rs0', members: [
    {_id: 0, host: 'mongo-0.mongo:27017', priority: 2},
    {_id: 1, host: 'mongo-1.mongo:27017'},
    {_id: 2, host: 'mongo-2.mongo:27017'}]});
}
let tries = 0;
while (!db.hello().isWritablePrimary && tries++ < 60) { sleep(1000) }
const admin = db.getSiblingDB('admin');
try {
  admin.createUser({user: '$(secret root-username)', pwd: '$(secret root-password)', roles: ['root']});
  print('root user created');
} catch (e) { print('root user: ' + e.codeName) }
JS

# Through the replica set's primary, wherever it is now.
kubectl -n "$ns" exec -i mongo-0 -c mongo -- mongosh --quiet --norc \
  'mongodb://mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017/?replicaSet=rs0' <<JS
const admin = db.getSiblingDB('admin');
admin.auth('$(secret root-username)', '$(secret root-password)');
if (admin.getUser('$(secret app-username)') == null) {
  admin.createUser({user: '$(secret app-username)', pwd: '$(secret app-password)',
                    roles: ['readWriteAnyDatabase']});
  print('application user created');
} else { print('application user exists') }
JS
