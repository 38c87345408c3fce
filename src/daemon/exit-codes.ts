// The daemon's exit codes, shared by the daemon and the --help text (README "Exit codes" says the same).

/** Every row reached every sink. */
export const EXIT_OK = 0;
/** A source error (corrupt file, interface gone) or a failure before the run started (bad flag, unwritable output). */
export const EXIT_ERROR = 1;
/** The run completed but some sink lost rows (dropped, rejected, or unwritten at the shutdown deadline), as rsync's partial transfer. */
export const EXIT_SINK_LOSS = 3;

export const EXIT_CODES_HELP = `
Exit codes:
  0  every window row reached every sink (CSV, InfluxDB)
  1  error: bad option, unwritable output, capture or input failure
  3  the run completed but a sink lost rows (dropped at its backlog bound, rejected by the server, or
     unwritten when --shutdown-timeout passed); the final "tcpcast stopped" line has each sink's counts
`;
