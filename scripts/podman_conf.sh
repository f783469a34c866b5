# Sourced by the container checks (check_compose.sh, check_pod.sh) before they run podman.
# As root in a VM or sandbox: runc (crun 1.8 refuses hosts with both cgroup v1 and v2 mounted),
# cgroupfs (no systemd), and limits no higher than this shell's (raising them needs
# CAP_SYS_RESOURCE, which a sandbox may lack). Unless CONTAINERS_CONF is set already, writes such a
# containers.conf, exports CONTAINERS_CONF and names the file in OWN_CONF (remove it when done).
if [ -z "${CONTAINERS_CONF:-}" ]; then
    CONTAINERS_CONF=$(mktemp --suffix=.conf); OWN_CONF=$CONTAINERS_CONF
    runtime=$(command -v runc >/dev/null && echo runc || echo crun)
    cat > "$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "$runtime"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
    export CONTAINERS_CONF
fi
