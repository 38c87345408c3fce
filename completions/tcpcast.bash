# bash completion for tcpcast (generated from the commander definitions: npm run docs:cli)
# Install: source this file, or copy it to /usr/share/bash-completion/completions/tcpcast
_tcpcast() {
  local cur prev cmd opts
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  cmd="${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "dataset demo devices eval import-pantheon lab packets replay run train windows help -V --version -h --help" -- "$cur"))
    return
  fi
  case "$cmd" in
    dataset)
      opts="--out --traces --fixed-mbps --cc --duration --delay-ms --queue --flows --seed --limit -h --help"
      case "$prev" in
      --out|--traces) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      --fixed-mbps|--cc|--duration|--delay-ms|--queue|--flows|--seed|--limit) return ;;
      esac
      ;;
    demo)
      opts="--trace --cc --flows --duration --delay-ms --queue --no-decap --vxlan-ports --window-ms --top-k --max-flows --csv --csv-mode --no-csv --model --no-forecast --workers --dashboard --no-dashboard --dashboard-allow-host --dashboard-max-clients --metrics --stats-interval --shutdown-timeout --log-level --log-format --config --influx-url --influx-api --influx-org --influx-bucket --influx-retention-policy --influx-user --influx-token-file --influx-measurement --influx-host-tag --influx-tag --influx-batch-mib --influx-backlog-mib --influx-flush-timeout-s -h --help"
      case "$prev" in
      --cc) COMPREPLY=($(compgen -W "cubic bbr reno" -- "$cur")); return ;;
      --csv-mode) COMPREPLY=($(compgen -W "append new rotate" -- "$cur")); return ;;
      --log-level) COMPREPLY=($(compgen -W "fatal error warn info debug trace silent" -- "$cur")); return ;;
      --log-format) COMPREPLY=($(compgen -W "auto pretty json" -- "$cur")); return ;;
      --influx-api) COMPREPLY=($(compgen -W "v2 v1" -- "$cur")); return ;;
      --trace|--csv|--model|--shutdown-timeout|--config|--influx-token-file|--influx-flush-timeout-s) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      --flows|--duration|--delay-ms|--queue|--vxlan-ports|--window-ms|--top-k|--max-flows|--workers|--dashboard|--dashboard-allow-host|--dashboard-max-clients|--metrics|--stats-interval|--influx-url|--influx-org|--influx-bucket|--influx-retention-policy|--influx-user|--influx-measurement|--influx-host-tag|--influx-tag|--influx-batch-mib|--influx-backlog-mib) return ;;
      esac
      ;;
    devices)
      opts="--json -h --help"
      case "$prev" in
      esac
      ;;
    eval)
      opts="--model --data --json --plots --ewma-alpha --ma-windows --series -h --help"
      case "$prev" in
      --series) COMPREPLY=($(compgen -W "any aggregate connections" -- "$cur")); return ;;
      --model|--data) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      --plots|--ewma-alpha|--ma-windows) return ;;
      esac
      ;;
    import-pantheon)
      opts="-o --output --window-ms -h --help"
      case "$prev" in
      -o|--output) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      --window-ms) return ;;
      esac
      ;;
    lab)
      opts="--trace --uplink --delay-ms --queue --cc --flows --duration --out --seed --offset-ms --emulator-log --no-windows --client-grace -h --help"
      case "$prev" in
      --cc) COMPREPLY=($(compgen -W "cubic bbr reno" -- "$cur")); return ;;
      --trace|--out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      --uplink|--delay-ms|--queue|--flows|--duration|--seed|--offset-ms|--client-grace) return ;;
      esac
      ;;
    packets)
      opts="--no-decap --vxlan-ports -h --help"
      case "$prev" in
      --vxlan-ports) return ;;
      esac
      ;;
    replay)
      opts="--speed -c --count --duration --no-decap --vxlan-ports --window-ms --top-k --max-flows --csv --csv-mode --no-csv --model --no-forecast --workers --dashboard --no-dashboard --dashboard-allow-host --dashboard-max-clients --metrics --stats-interval --shutdown-timeout --log-level --log-format --config --influx-url --influx-api --influx-org --influx-bucket --influx-retention-policy --influx-user --influx-token-file --influx-measurement --influx-host-tag --influx-tag --influx-batch-mib --influx-backlog-mib --influx-flush-timeout-s -h --help"
      case "$prev" in
      --csv-mode) COMPREPLY=($(compgen -W "append new rotate" -- "$cur")); return ;;
      --log-level) COMPREPLY=($(compgen -W "fatal error warn info debug trace silent" -- "$cur")); return ;;
      --log-format) COMPREPLY=($(compgen -W "auto pretty json" -- "$cur")); return ;;
      --influx-api) COMPREPLY=($(compgen -W "v2 v1" -- "$cur")); return ;;
      --csv|--model|--shutdown-timeout|--config|--influx-token-file|--influx-flush-timeout-s) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      --speed|-c|--count|--duration|--vxlan-ports|--window-ms|--top-k|--max-flows|--workers|--dashboard|--dashboard-allow-host|--dashboard-max-clients|--metrics|--stats-interval|--influx-url|--influx-org|--influx-bucket|--influx-retention-policy|--influx-user|--influx-measurement|--influx-host-tag|--influx-tag|--influx-batch-mib|--influx-backlog-mib) return ;;
      esac
      ;;
    run)
      opts="-i --interface -s --snaplen -B --buffer-size --no-promisc --netns -c --count --duration --no-decap --vxlan-ports --window-ms --top-k --max-flows -r --read --user --csv --csv-mode --no-csv --model --no-forecast --workers --dashboard --no-dashboard --dashboard-allow-host --dashboard-max-clients --metrics --stats-interval --shutdown-timeout --log-level --log-format --config --influx-url --influx-api --influx-org --influx-bucket --influx-retention-policy --influx-user --influx-token-file --influx-measurement --influx-host-tag --influx-tag --influx-batch-mib --influx-backlog-mib --influx-flush-timeout-s -h --help"
      case "$prev" in
      --csv-mode) COMPREPLY=($(compgen -W "append new rotate" -- "$cur")); return ;;
      --log-level) COMPREPLY=($(compgen -W "fatal error warn info debug trace silent" -- "$cur")); return ;;
      --log-format) COMPREPLY=($(compgen -W "auto pretty json" -- "$cur")); return ;;
      --influx-api) COMPREPLY=($(compgen -W "v2 v1" -- "$cur")); return ;;
      -i|--interface) COMPREPLY=($(compgen -W "any $(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
      -r|--read|--csv|--model|--shutdown-timeout|--config|--influx-token-file|--influx-flush-timeout-s) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      -s|--snaplen|-B|--buffer-size|--netns|-c|--count|--duration|--vxlan-ports|--window-ms|--top-k|--max-flows|--user|--workers|--dashboard|--dashboard-allow-host|--dashboard-max-clients|--metrics|--stats-interval|--influx-url|--influx-org|--influx-bucket|--influx-retention-policy|--influx-user|--influx-measurement|--influx-host-tag|--influx-tag|--influx-batch-mib|--influx-backlog-mib) return ;;
      esac
      ;;
    train)
      opts="--data --out --lstm --dense --seq-len --epochs --patience --batch-size --lr --val-fraction --seed --features --quantiles --synthetic --target-mode --series --loss --no-progress -h --help"
      case "$prev" in
      --target-mode) COMPREPLY=($(compgen -W "level delta relative" -- "$cur")); return ;;
      --series) COMPREPLY=($(compgen -W "any aggregate connections" -- "$cur")); return ;;
      --loss) COMPREPLY=($(compgen -W "pinball huber mae" -- "$cur")); return ;;
      --data|--out) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      --lstm|--dense|--seq-len|--epochs|--patience|--batch-size|--lr|--val-fraction|--seed|--features|--quantiles) return ;;
      esac
      ;;
    windows)
      opts="-i --interface -s --snaplen -B --buffer-size --no-promisc --netns --speed -c --count --duration --no-decap --vxlan-ports --window-ms --top-k --max-flows -o --output -h --help"
      case "$prev" in
      -i|--interface) COMPREPLY=($(compgen -W "any $(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;
      -o|--output) COMPREPLY=($(compgen -f -- "$cur")); return ;;
      -s|--snaplen|-B|--buffer-size|--netns|--speed|-c|--count|--duration|--vxlan-ports|--window-ms|--top-k|--max-flows) return ;;
      esac
      ;;
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _tcpcast tcpcast
