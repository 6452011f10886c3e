//! Command-line definitions. Where strace has a flag for the same thing, the spelling and the
//! meaning are strace's; departures are listed in docs/manual.md with their reasons.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "interpose",
    version,
    about = "Trace a program's syscalls through seccomp user notification, without ptrace",
    propagate_version = true
)]
pub struct Cli {
    /// More of interpose's own diagnostics on stderr (-v info, -vv debug, -vvv trace);
    /// RUST_LOG overrides. (strace's -v, unabbreviated structures, has no use here: interpose's
    /// decoders print every field they know.)
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run PROGRAM under a policy and report the syscalls it selects.
    ///
    /// Options end at PROGRAM (or at --): the words after it are the program's, as with strace.
    /// Without -p or -e trace=, the built-in default policy traces read, connect and futex.
    #[command(override_usage = "interpose run [OPTIONS] [--] PROGRAM [ARGS]...")]
    Run(Box<RunArgs>),
    /// Validate policy files; print what each traces, injects and denies, and what it traps.
    Check {
        /// Policy files (TOML).
        #[arg(value_name = "POLICY", required = true)]
        policies: Vec<PathBuf>,
        /// Also print the filter: its BPF program, disassembled.
        #[arg(long)]
        bpf: bool,
        /// Show what the filter traps with `run --fd-cache` (the calls that end descriptors too).
        #[arg(long = "fd-cache")]
        fd_cache: bool,
    },
    /// List the syscalls interpose knows, with their numbers and classes.
    Syscalls {
        /// Only this class (file, desc, net, process, signal, ipc, memory, creds, clock, pure...).
        #[arg(long, value_name = "CLASS")]
        class: Option<String>,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): interpose(1), or interpose-SUBCOMMAND(1).
    Man {
        /// The subcommand whose page to print (run, check, syscalls, completions, man); without
        /// it, interpose(1).
        #[arg(value_name = "SUBCOMMAND")]
        page: Option<String>,
        /// Write every page (interpose.1, interpose-run.1, ...) into DIR instead.
        #[arg(long, value_name = "DIR", conflicts_with = "page")]
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// strace expression: `trace=SET` (names, %class, /regex, all, none, ?name, leading !).
    /// Repeatable; for trace=, the last one wins, as in strace.
    #[arg(short = 'e', value_name = "EXPR", action = ArgAction::Append, allow_hyphen_values = true)]
    pub expr: Vec<String>,

    /// Policy file (TOML). With -e trace= too, both selections are traced.
    /// (strace's -p attaches to a PID; interpose cannot attach, see docs/manual.md.)
    #[arg(short = 'p', long = "policy", value_name = "FILE")]
    pub policy: Option<PathBuf>,

    /// Print only the summary table, as strace -c.
    #[arg(short = 'c', long = "summary-only", conflicts_with = "summary")]
    pub summary_only: bool,

    /// Print the log and then the summary table, as strace -C.
    #[arg(short = 'C', long = "summary")]
    pub summary: bool,

    /// Write the trace and summary to FILE instead of stderr.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Show at most STRSIZE bytes of each string or buffer, and STRSIZE elements of each array.
    #[arg(short = 's', long = "string-limit", value_name = "STRSIZE", default_value_t = 32)]
    pub strsize: usize,

    /// Prefix each line with the time of day (-t), with microseconds (-tt), or as seconds since
    /// the epoch (-ttt), as strace does.
    #[arg(short = 't', long = "absolute-timestamps", action = ArgAction::Count)]
    pub timestamps: u8,

    /// Prefix each line with the time since the previous one, as strace -r.
    #[arg(short = 'r', long = "relative-timestamps")]
    pub relative: bool,

    /// Show what descriptors are: paths (-y), and socket endpoints (-yy), as strace does.
    #[arg(short = 'y', long = "decode-fds", action = ArgAction::Count)]
    pub decode_fds: u8,

    /// -q is accepted (interpose prints no attach messages); -qq also leaves out the exit line.
    #[arg(short = 'q', long = "quiet", action = ArgAction::Count)]
    pub quiet: u8,

    /// Log format: text (strace's lines) or json (one JSON object per line).
    #[arg(long = "format", value_name = "FORMAT", default_value = "text")]
    pub format: crate::output::Format,

    /// Also write a Chrome trace-event / Perfetto file (open it in ui.perfetto.dev).
    #[arg(long = "trace-out", value_name = "FILE")]
    pub trace_out: Option<PathBuf>,

    /// Also write a self-contained HTML report: summary, latency histograms, busiest threads.
    #[arg(long = "report", value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Show the time spent in each executed call, as strace -T.
    #[arg(short = 'T', long = "syscall-times")]
    pub syscall_times: bool,

    /// Run the program as USERNAME (or UID[:GID]), with that user's groups, as strace -u; needs
    /// root. interpose itself stays root. Set-user-ID programs then run without their privilege.
    #[arg(short = 'u', long = "user", value_name = "USERNAME")]
    pub user: Option<String>,

    /// Print the user stack of each logged call under it, as strace -k does.
    #[arg(short = 'k', long = "stack-trace")]
    pub stack_trace: bool,

    /// Log only calls that returned without an error (results known), as strace -z.
    #[arg(short = 'z', long = "successful-only", conflicts_with = "failed_only")]
    pub successful_only: bool,

    /// Log only calls that returned an error (results known), as strace -Z.
    #[arg(short = 'Z', long = "failed-only")]
    pub failed_only: bool,

    /// Summary columns, as strace -U (time-percent, total-time, min-time, max-time, avg-time,
    /// calls, errors, name), plus p50 and p99.
    #[arg(short = 'U', long = "summary-columns", value_name = "COLUMNS")]
    pub summary_columns: Option<String>,

    /// Sort the summary by time (default), min-time, max-time, avg-time, calls, errors, name or
    /// nothing, as strace -S.
    #[arg(short = 'S', long = "summary-sort-by", value_name = "SORTBY")]
    pub summary_sort: Option<String>,

    /// Accepted for strace compatibility: summary times are always wall-clock times.
    #[arg(short = 'w', long = "summary-wall-clock")]
    pub wall_clock: bool,

    /// Never execute calls on the program's behalf: the kernel completes every call, and
    /// results, errors and times are not known (shown as ? and -).
    #[arg(long = "no-exec")]
    pub no_exec: bool,

    /// Keep the copies of the program's descriptors that executed calls borrow, between calls
    /// (experimental; traps close, dup2, exit and the other calls that end descriptors).
    #[arg(long = "fd-cache", env = "INTERPOSE_FD_CACHE")]
    pub fd_cache: bool,

    /// Wake the program on interpose's CPU when answering (Linux 6.6+): auto (on while one
    /// thread makes the traced calls), on, or off.
    #[arg(long = "sync-wakeup", value_name = "WHEN", default_value = "auto")]
    pub sync_wakeup: crate::run::SyncWakeup,

    /// Results and times of the calls left to the kernel, from its syscall exit events
    /// (raw_syscalls:sys_exit; needs root or CAP_PERFMON): auto (when permitted, else say once
    /// why they are unknown), on (fail with exit 2 when not permitted), or off.
    #[arg(long = "exits", value_name = "WHEN", default_value = "auto")]
    pub exits: crate::run::ExitsMode,

    /// With -c/-C: one summary table per thread or per process, then the total (perf trace's
    /// --summary-mode).
    #[arg(long = "summary-mode", value_name = "MODE", default_value = "total")]
    pub summary_mode: crate::output::summary::Mode,

    /// With -c/-C: under the table, each syscall's errors by errno, injected ones apart (perf
    /// trace's --errno-summary).
    #[arg(long = "errno-summary")]
    pub errno_summary: bool,

    /// Log only calls whose duration is known and at least MS milliseconds (perf trace's
    /// --duration); the summary still counts every call.
    #[arg(long = "duration", value_name = "MS")]
    pub duration: Option<f64>,

    /// Log at most N calls (also in --trace-out); the summary still counts every call.
    #[arg(long = "max-events", value_name = "N")]
    pub max_events: Option<u64>,

    /// Accepted for strace compatibility: interpose always follows threads and children.
    #[arg(short = 'f', long = "follow-forks", action = ArgAction::Count)]
    pub follow: u8,

    /// The program and its arguments. As in strace, options end at the first word that is not
    /// one (or at `--`): everything after it is the program's.
    #[arg(value_name = "PROGRAM", required = true, trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

impl Cli {
    /// Parses `args` (interpose's own name first). An unknown option is refused as an option, as
    /// strace refuses one ([`Refusal::UnknownOption`], with a did-you-mean when one is close).
    /// Options end at the program name (or `--`), so `interpose run ls -l` runs `ls -l`. Other
    /// usage errors, `--help` and `--version` are clap's ([`Refusal::Clap`]).
    pub fn parse_args<I, T>(args: I) -> Result<Cli, Refusal>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        Cli::try_parse_from(&args).map_err(|e| match unknown_option(&e) {
            Some(message) => Refusal::UnknownOption(message),
            None => Refusal::Clap(e),
        })
    }
}

/// Why the command line was not accepted.
#[derive(Debug)]
pub enum Refusal {
    /// An option no subcommand knows: the message, without the `interpose: ` prefix.
    UnknownOption(String),
    /// Anything else clap refused (or `--help` / `--version`): clap prints it and exits.
    Clap(clap::Error),
}

/// `unknown option --summray, did you mean --summary?` for clap's unknown-argument error.
fn unknown_option(e: &clap::Error) -> Option<String> {
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else { return None };
    let arg = arg.split_once('=').map_or(arg.as_str(), |(name, _)| name);
    if let Some(ContextValue::String(suggested)) = e.get(ContextKind::SuggestedArg) {
        return Some(format!("unknown option {arg}, did you mean {suggested}?"));
    }
    // The usage line clap made names the subcommand whose options were being read.
    let sub = match e.get(ContextKind::Usage) {
        Some(ContextValue::StyledStr(usage)) => usage.to_string(),
        _ => String::new(),
    };
    let sub = sub.split_whitespace().skip_while(|w| *w != "interpose").nth(1).unwrap_or("");
    Some(match Cli::command().find_subcommand(sub) {
        Some(_) if sub == "run" => format!(
            "unknown option {arg} (`interpose run --help` lists the options; a program whose name starts with - goes after --)"
        ),
        Some(_) => format!("unknown option {arg} (`interpose {sub} --help` lists the options)"),
        None => format!("unknown option {arg} (`interpose --help` lists the options)"),
    })
}
