#!/usr/bin/env bash
# The node's container image built by Jib to a tarball with neither a registry nor a Docker daemon,
# then run the way a container runtime runs it. The production base (eclipse-temurin:17-jre, see
# node/pom.xml's `image` profile) comes from a registry, which these machines cannot reach, so a
# stand-in base is assembled here: a jlink'ed Java 17 runtime and the shared libraries it links,
# saved in `docker save` layout and given to Jib as tar://. Then the image's layers are unpacked in
# order into a root filesystem and its entrypoint started in a chroot as its user (10001), with its
# environment: prints the image's layers and config, then the node's /alive, /ready and a tenant
# created through the API, and stops the node by PID (SIGTERM: coordinated shutdown).
#
#   scripts/image-offline.sh          needs root (chroot, /proc and /dev mounts), jlink, python3, curl
#
# Builds the reactor offline (no install). Leaves node/target/jib-image.tar.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "needs root (chroot)" >&2; exit 2; }
java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
[[ -d "$java_home/jmods" ]] || java_home=/usr/lib/jvm/java-17-openjdk-amd64
work=$(mktemp -d /tmp/mysimbdp-image.XXXXXX)
root="$work/rootfs"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  for m in "$root/proc" "$root/dev"; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "== base image (stand-in for eclipse-temurin:17-jre): jlink runtime + its shared libraries"
base="$work/base"
"$java_home/bin/jlink" --module-path "$java_home/jmods" \
  --add-modules java.se,jdk.unsupported,jdk.crypto.ec,jdk.naming.dns,jdk.management,jdk.zipfs,jdk.net,jdk.jfr,jdk.localedata \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "$base/opt/java/openjdk"
find "$base/opt/java/openjdk" -name '*.so' -print0 | xargs -0 ldd "$base/opt/java/openjdk/bin/java" 2>/dev/null \
  | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | sort -u | while read -r lib; do
    cp --parents -L "$lib" "$base/"
  done
# glibc's resolver and name-service modules, loaded at run time (not listed by ldd)
for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libresolv.so.2; do
  [[ -e "$lib" ]] && cp --parents -L "$lib" "$base/"
done
mkdir -p "$base/etc" "$base/tmp" "$base/proc" "$base/dev" "$base/bin"
chmod 1777 "$base/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nmysimbdp:x:10001:10001::/tmp:/sbin/nologin\n' > "$base/etc/passwd"
printf 'root:x:0:\nmysimbdp:x:10001:\n' > "$base/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$base/etc/hosts"
printf 'hosts: files dns\n' > "$base/etc/nsswitch.conf"
(cd "$base" && tar --numeric-owner --owner=0 --group=0 -cf "$work/layer.tar" .)
python3 - "$work" <<'EOF'
import hashlib, json, os, sys, tarfile
work = sys.argv[1]
digest = hashlib.sha256(open(os.path.join(work, "layer.tar"), "rb").read()).hexdigest()
config = {"architecture": "amd64", "os": "linux",
          "config": {"Env": ["PATH=/opt/java/openjdk/bin:/usr/bin:/bin", "JAVA_HOME=/opt/java/openjdk"]},
          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + digest]}}
with open(os.path.join(work, "config.json"), "w") as f:
    json.dump(config, f)
with open(os.path.join(work, "manifest.json"), "w") as f:
    json.dump([{"Config": "config.json", "RepoTags": ["mysimbdp-base:local"], "Layers": ["layer.tar"]}], f)
with tarfile.open(os.path.join(work, "base.tar"), "w") as t:
    for name in ("manifest.json", "config.json", "layer.tar"):
        t.add(os.path.join(work, name), arcname=name)
EOF
rm -f "$work/layer.tar"
echo "   $(du -h "$work/base.tar" | cut -f1) base image tarball"

echo "== Jib: node image to node/target/jib-image.tar (no registry, no daemon)"
./mvnw -B -ntp -q -Pimage -pl node -am package -DskipTests \
  -Djib.from.image="tar://$work/base.tar" -Djib.to.image=mysimbdp-node:offline >&2

echo "== the image"
mkdir -p "$root" "$work/image"
tar -xf node/target/jib-image.tar -C "$work/image"
python3 - "$work/image" "$root" "$work/run.env" <<'EOF'
import json, os, sys, tarfile
image, root, env_file = sys.argv[1:]
manifest = json.load(open(os.path.join(image, "manifest.json")))[0]
config = json.load(open(os.path.join(image, manifest["Config"])))["config"]
for layer in manifest["Layers"]:
    with tarfile.open(os.path.join(image, layer)) as t:
        print(f"   layer {layer}: {len(t.getmembers())} entries")
        t.extractall(root, numeric_owner=True)
print(f"   Entrypoint {config.get('Entrypoint')}  User {config.get('User')}  Ports {sorted(config.get('ExposedPorts', {}))}")
print(f"   Env {config.get('Env')}")
with open(env_file, "w") as f:
    f.write(config.get("User", "0") + "\n")
    f.write("\0".join(config.get("Env", [])) + "\n")
    f.write("\0".join(config["Entrypoint"] + (config.get("Cmd") or [])) + "\n")
EOF
user=$(sed -n 1p "$work/run.env")
mapfile -d '' -t image_env < <(sed -n 2p "$work/run.env" | tr -d '\n')
mapfile -d '' -t entrypoint < <(sed -n 3p "$work/run.env" | tr -d '\n')

echo "== the node, started from the image's root filesystem (chroot, user $user)"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port); management_port=$(free_port); akka_port=$(free_port)
admin_token="image-check-$RANDOM$RANDOM"
# Only the image's environment (and the ports), as a runtime gives it; chroot then finds the
# entrypoint's `java` on the image's PATH inside the root filesystem.
env -i "${image_env[@]}" \
  HTTP_HOST=127.0.0.1 HTTP_PORT="$http_port" MANAGEMENT_PORT="$management_port" AKKA_PORT="$akka_port" \
  MYSIMBDP_ADMIN_TOKEN="$admin_token" "$(command -v chroot)" --userspec="$user" "$root" "${entrypoint[@]}" > "$work/node.log" 2>&1 &
pid=$!
echo "   pid $pid; API 127.0.0.1:$http_port, management 127.0.0.1:$management_port"
ready=""
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$management_port/ready" > /dev/null 2>&1; then ready=yes; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
if [[ -z "$ready" ]]; then
  echo "FAILED: the node did not become ready; its log:"; tail -40 "$work/node.log"; exit 1
fi
echo "   /alive: $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$management_port/alive")  /ready: $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$management_port/ready")"
created=$(curl -s -w ' %{http_code}' -X POST "http://127.0.0.1:$http_port/v1/tenants" \
  -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' -d '{"id":"image-check"}')
echo "   POST /v1/tenants: ${created##* } $(echo "${created% *}" | cut -c1-120)…"
kill -TERM "$pid"
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$pid" 2>/dev/null; then echo "FAILED: no exit within 60 s of SIGTERM"; exit 1; fi
wait "$pid" || true
echo "   SIGTERM: exited"
[[ "${created##* }" == "201" ]] || { echo "FAILED: tenant not created"; tail -20 "$work/node.log"; exit 1; }
echo "OK: node/target/jib-image.tar runs the node"
