#!/bin/sh
# The image's entry point: writes the dashboards with this deployment's resources, then starts
# Grafana. The generated JSON holds a marker (@@IOTP_<KEY>@@) wherever a physical name goes;
# the task's environment holds each value (infra/aws/constructs/grafana.ts). Grafana expands
# environment variables in its provisioning YAML but not in dashboard files, hence this step.
# The same substitution for the local stack and the tests: provisionDashboard in
# shared/dashboard-model/deployment.ts (grafana.test.ts holds both to the same output).
set -eu

source_dir=${IOTP_DASHBOARDS_SOURCE:-/etc/grafana/dashboards}
target_dir=${IOTP_DASHBOARDS_TARGET:-/tmp/iot-playground/dashboards}

# A value goes into a JSON string, a Grafana custom variable (commas separate options) and a
# sed replacement (| & \ are special): the characters of AWS names and ARNs only.
script=''
for name in $(env | sed -n 's/^\(IOTP_[A-Za-z0-9_]*\)=.*/\1/p'); do
  case "$name" in IOTP_DASHBOARDS_*) continue ;; esac
  value=$(printenv "$name")
  case "$value" in
    '' | *[!A-Za-z0-9._:/*#-]*)
      echo "provision-dashboards: $name holds a character a dashboard cannot take" >&2
      exit 1
      ;;
  esac
  script="${script}s|@@${name}@@|${value}|g;"
done

mkdir -p "$target_dir"
for file in "$source_dir"/*.json; do
  [ -e "$file" ] || continue
  target="$target_dir/$(basename "$file")"
  sed -e "$script" "$file" > "$target"
  left=$(grep -o '@@IOTP_[A-Za-z0-9_]*@@' "$target" | sort -u | tr '\n' ' ' || true)
  if [ -n "$left" ]; then
    echo "provision-dashboards: no value for $left in $(basename "$file")" >&2
    exit 1
  fi
done

exec "${IOTP_DASHBOARDS_START:-/run.sh}" "$@"
