// Shell completion (bash, zsh) and the man page, generated from the commander definitions so they list every command and flag.
import type { Command, Option } from 'commander';

interface CommandInfo {
  name: string;
  summary: string;
  usage: string;
  options: Option[];
}

/** Every subcommand with its visible options, plus the global ones (--version, --help) under the name ''. */
function commands(program: Command): CommandInfo[] {
  return program.commands
    .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
    .map((c) => ({ name: c.name(), summary: c.description(), usage: c.usage(), options: c.options.filter((o) => !o.hidden) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function flagWords(o: Option): string[] {
  return [o.short, o.long].filter((f): f is string => Boolean(f));
}

/** Whether the flag takes a value (<x> required, [x] optional). */
function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

const FILE_VALUE = /file|path|dir|model|config|out|output|csv|trace|read|data/i;

// ---------------------------------------------------------------------------------------------------------------
// bash

export function bashCompletion(program: Command): string {
  const cmds = commands(program);
  const valueFlags = new Set<string>();
  const cases = cmds.map((c) => {
    for (const o of c.options) if (takesValue(o)) for (const f of flagWords(o)) valueFlags.add(`${c.name} ${f}`);
    const words = c.options.flatMap(flagWords).concat(['-h', '--help']).join(' ');
    const choices = c.options
      .filter((o) => o.argChoices && o.argChoices.length > 0)
      .map((o) => `      ${flagWords(o).join('|')}) COMPREPLY=($(compgen -W "${o.argChoices!.join(' ')}" -- "$cur")); return ;;`)
      .join('\n');
    const files = c.options
      .filter((o) => takesValue(o) && !o.argChoices && FILE_VALUE.test(o.long ?? ''))
      .flatMap(flagWords);
    const ifaces = c.options.filter((o) => o.long === '--interface').flatMap(flagWords);
    const plain = c.options
      .filter((o) => takesValue(o) && !o.argChoices && !files.includes(o.long!) && o.long !== '--interface')
      .flatMap(flagWords);
    return [
      `    ${c.name})`,
      `      opts="${words}"`,
      '      case "$prev" in',
      choices,
      ifaces.length ? `      ${ifaces.join('|')}) COMPREPLY=($(compgen -W "any $(ls /sys/class/net 2>/dev/null)" -- "$cur")); return ;;` : '',
      files.length ? `      ${files.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;` : '',
      plain.length ? `      ${plain.join('|')}) return ;;` : '',
      '      esac',
      '      ;;',
    ]
      .filter((l) => l !== '')
      .join('\n');
  });
  return `# bash completion for tcpcast (generated from the commander definitions: npm run docs:cli)
# Install: source this file, or copy it to /usr/share/bash-completion/completions/tcpcast
_tcpcast() {
  local cur prev cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${cmds.map((c) => c.name).join(' ')} help -V --version -h --help" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases.join('\n')}
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _tcpcast tcpcast
`;
}

// ---------------------------------------------------------------------------------------------------------------
// zsh

function zshEscape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/:/g, '\\:');
}

function zshSpec(o: Option): string[] {
  const desc = zshEscape(o.description.split('\n')[0]);
  const value = !takesValue(o)
    ? ''
    : o.argChoices
      ? `:value:(${o.argChoices.join(' ')})`
      : o.long === '--interface'
        ? ':interface:_net_interfaces'
        : FILE_VALUE.test(o.long ?? '')
          ? ':file:_files'
          : ':value:';
  const repeat = o.long === '--interface' ? '*' : '';
  if (o.short && o.long) return [`'${repeat}(${o.short} ${o.long})'{${o.short},${o.long}}'[${desc}]${value}'`];
  return flagWords(o).map((f) => `'${repeat}${f}[${desc}]${value}'`);
}

export function zshCompletion(program: Command): string {
  const cmds = commands(program);
  const list = cmds.map((c) => `    '${c.name}:${zshEscape(c.summary.split('\n')[0])}'`).join('\n');
  const cases = cmds
    .map((c) => [`    ${c.name})`, '      _arguments -s \\', ...c.options.flatMap(zshSpec).map((s) => `        ${s} \\`), "        '*:file:_files'", '      ;;'].join('\n'))
    .join('\n');
  return `#compdef tcpcast
# zsh completion for tcpcast (generated from the commander definitions: npm run docs:cli)
# Install: copy to a directory in $fpath as _tcpcast (e.g. /usr/share/zsh/vendor-completions/_tcpcast)
_tcpcast() {
  local -a commands
  commands=(
${list}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'tcpcast command' commands
    return
  fi
  words=(\${words[2,-1]})
  (( CURRENT-- ))
  case \${words[1]} in
${cases}
  esac
}
_tcpcast "$@"
`;
}

// ---------------------------------------------------------------------------------------------------------------
// man page

function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function optionLine(o: Option): string {
  const flags = o.flags.replace(/</g, '\\fI').replace(/>/g, '\\fR').replace(/\[/g, '[\\fI').replace(/\]/g, '\\fR]');
  return `\\fB${flags.replace(/-/g, '\\-')}\\fR`;
}

function optionBody(o: Option): string {
  const extras: string[] = [];
  if (o.argChoices) extras.push(`one of: ${o.argChoices.join(', ')}`);
  // A default found on this machine (an absolute path) is not the program's: the page must read the same everywhere.
  const machineSpecific = typeof o.defaultValue === 'string' && o.defaultValue.startsWith('/');
  if (o.defaultValue !== undefined && o.defaultValue !== false && !o.negate && !machineSpecific) {
    extras.push(`default: ${o.defaultValueDescription ?? (Array.isArray(o.defaultValue) ? o.defaultValue.join(',') : String(o.defaultValue))}`);
  }
  if (o.envVar) extras.push(`environment: ${o.envVar}`);
  return roff(o.description + (extras.length ? ` (${extras.join('; ')})` : ''));
}

export function manPage(program: Command, version: string): string {
  const cmds = commands(program);
  const env = new Map<string, string>();
  for (const c of cmds) for (const o of c.options) if (o.envVar) env.set(o.envVar, o.long!);
  const out: string[] = [
    `.\\" tcpcast(1), generated from the commander definitions by npm run docs:cli; edit the command files, not this page.`,
    `.TH TCPCAST 1 "" "tcpcast ${version}" "User Commands"`,
    '.SH NAME',
    'tcpcast \\- forecast TCP throughput on live links',
    '.SH SYNOPSIS',
    '.B tcpcast',
    '.I command',
    '[\\fIoptions\\fR] [\\fIargs\\fR]',
    '.br',
    '.B tcpcast',
    '\\fB\\-\\-version\\fR | \\fB\\-\\-help\\fR',
    '.SH DESCRIPTION',
    roff(program.description()),
    '.PP',
    roff('A BPF filter is given as trailing words, as in tcpdump. Logs go to stderr: readable lines on a terminal, JSON (pino) otherwise or with --log-format json; data (packets, windows) goes to stdout.'),
    '.SH COMMANDS',
  ];
  for (const c of cmds) {
    out.push(`.SS "tcpcast ${c.name} ${roff(c.usage)}"`, roff(c.summary));
    for (const o of c.options) out.push('.TP', optionLine(o), optionBody(o));
  }
  out.push('.SH GLOBAL OPTIONS', '.TP', '\\fB\\-V\\fR, \\fB\\-\\-version\\fR', roff('print the versions of tcpcast, libpcap, onnxruntime and Node, then exit'));
  out.push('.TP', '\\fB\\-h\\fR, \\fB\\-\\-help\\fR', roff('help for tcpcast or for one command'));
  out.push('.SH ENVIRONMENT', roff('Every flag that has one below can come from its variable; precedence: command line > environment > --config file > defaults.'));
  for (const [name, flag] of [...env.entries()].sort()) out.push('.TP', `.B ${name}`, roff(`as ${flag}`));
  out.push('.TP', '.B INFLUX_TOKEN', roff('the InfluxDB token (never a flag: argv is visible to every user)'));
  out.push('.TP', '.B NO_COLOR', roff('no colours in the terminal log format'));
  out.push('.TP', '.B TCPCAST_DEBUG', roff('print stack traces of errors'));
  out.push('.SH EXIT STATUS', roff('0 on a clean stop or the end of the input; 1 on an error (one line on stderr with its code); 130/143 when interrupted where a command says so.'));
  out.push('.SH SEE ALSO', '.BR tcpdump (8),', '.BR tshark (1),', '.BR pcap-filter (7)');
  return out.join('\n') + '\n';
}

/** Every flag of every command, as "command --flag" (the tests check each appears in each generated file). */
export function allFlags(program: Command): string[] {
  return commands(program).flatMap((c) => c.options.flatMap((o) => flagWords(o).map((f) => `${c.name} ${f}`)));
}

export function commandNames(program: Command): string[] {
  return commands(program).map((c) => c.name);
}

/** Where `npm run docs:cli` writes; the unit test checks the committed files equal a fresh generation. */
export const GENERATED_FILES = { man: 'docs/tcpcast.1', bash: 'completions/tcpcast.bash', zsh: 'completions/_tcpcast' } as const;

export function generateAll(program: Command): Record<keyof typeof GENERATED_FILES, string> {
  const version = (require('../../package.json') as { version: string }).version;
  return { man: manPage(program, version), bash: bashCompletion(program), zsh: zshCompletion(program) };
}

if (require.main === module) {
  const { mkdirSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { dirname, join } = require('node:path') as typeof import('node:path');
  const { buildProgram } = require('./cli') as typeof import('./cli');
  const root = join(__dirname, '..', '..');
  const files = generateAll(buildProgram());
  for (const [key, rel] of Object.entries(GENERATED_FILES)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), files[key as keyof typeof GENERATED_FILES]);
    process.stdout.write(`wrote ${rel}\n`);
  }
}
