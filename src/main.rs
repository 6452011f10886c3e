//! `interpose`: parse arguments, run, map the outcome to an exit status.
//!
//! Exit status: the traced program's own (by signal: interpose dies of the same signal, as strace
//! does); 2 for usage and policy errors; 126/127 when the program cannot be run / is not found;
//! 1 when interpose itself cannot work (kernel, filter, internal error).

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use interpose::cli::{Cli, Command, Refusal, RunArgs};
use interpose::event::ExitStatus;
use interpose::output::summary::{self, Layout};
use interpose::output::{Only, Timestamps};
use interpose::run::{self, Mode, RunOptions};

fn main() -> ExitCode {
    let cli = match Cli::parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(Refusal::UnknownOption(message)) => return fail(2, message),
        Err(Refusal::Clap(e)) => e.exit(),
    };
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
    match cli.command {
        Command::Run(args) => run_command(*args),
        Command::Check { policies, bpf, fd_cache } => {
            let mut code = 0;
            for p in policies {
                match interpose::commands::check(&p, bpf, fd_cache) {
                    Ok(text) => print!("{text}"),
                    Err(e) => {
                        let _ = writeln!(std::io::stderr(), "interpose: {e}");
                        code = 2;
                    }
                }
            }
            ExitCode::from(code)
        }
        Command::Syscalls { class } => match interpose::commands::syscalls(class.as_deref()) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(2, e),
        },
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "interpose", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man { page: _, dir: Some(dir) } => match interpose::commands::man_dir(&dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(1, e),
        },
        Command::Man { page, dir: None } => match interpose::commands::man(page.as_deref()) {
            Ok(Some(roff)) => match std::io::stdout().write_all(&roff) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(1, e),
            },
            Ok(None) => fail(
                2,
                format_args!(
                    "no manual page for \"{}\"; the subcommands are: {}",
                    page.unwrap_or_default(),
                    interpose::commands::man_pages().join(", ")
                ),
            ),
            Err(e) => fail(1, e),
        },
    }
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "interpose: {message}");
    ExitCode::from(code)
}

fn run_command(args: RunArgs) -> ExitCode {
    let policy = match interpose::policy::build(args.policy.as_deref(), &args.expr) {
        Ok(p) => p,
        Err(e) => {
            let hint = match &args.policy {
                Some(p) if p.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) && !p.exists() => {
                    "\n(-p takes a policy file; interpose cannot attach to a running process as strace -p PID does)"
                }
                _ => "",
            };
            return fail(2, format_args!("{e}{hint}"));
        }
    };
    let mode = if args.summary_only {
        Mode::Summary
    } else if args.summary {
        Mode::LogAndSummary
    } else {
        Mode::Log
    };
    let mut summary = Layout::default();
    if let Some(spec) = &args.summary_columns {
        match summary::parse_columns(spec) {
            Ok(c) => summary.columns = c,
            Err(e) => return fail(2, format_args!("-U {spec}: {e}")),
        }
    }
    if let Some(spec) = &args.summary_sort {
        match summary::parse_sort(spec) {
            Ok(k) => summary.sort = k,
            Err(e) => return fail(2, format_args!("-S {spec}: {e}")),
        }
    }
    summary.mode = args.summary_mode;
    summary.errno_summary = args.errno_summary;
    let min_duration_ns = match args.duration {
        Some(ms) if ms.is_finite() && ms >= 0.0 => Some((ms * 1e6) as u64),
        Some(ms) => return fail(2, format_args!("--duration {ms}: expected a number of milliseconds, 0 or more")),
        None => None,
    };
    let only = if args.successful_only {
        Only::Successful
    } else if args.failed_only {
        Only::Failed
    } else {
        Only::All
    };
    let timestamps = match args.timestamps {
        0 => Timestamps::None,
        1 => Timestamps::Seconds,
        2 => Timestamps::Micros,
        _ => Timestamps::Epoch,
    };
    let execute = !args.no_exec && policy.execute.unwrap_or(true);
    let user = match &args.user {
        Some(spec) => match interpose::launch::RunAs::resolve(spec) {
            Ok(u) if nix::unistd::geteuid().is_root() => Some(u),
            Ok(_) => return fail(2, format_args!("-u {spec}: only root can run a program as another user")),
            Err(e) => return fail(2, e),
        },
        None => None,
    };
    let mut command = args.command.into_iter();
    let program = command.next().expect("clap requires PROGRAM");
    let opts = RunOptions {
        policy,
        sync_wakeup: args.sync_wakeup,
        exits: args.exits,
        min_duration_ns,
        max_events: args.max_events,
        format: args.format,
        timestamps,
        relative: args.relative,
        quiet: args.quiet,
        decode_fds: args.decode_fds,
        trace_out: args.trace_out,
        report: args.report,
        execute,
        fd_cache: args.fd_cache,
        syscall_times: args.syscall_times,
        stack_trace: args.stack_trace,
        only,
        summary,
        program,
        args: command.collect(),
        mode,
        output: args.output,
        strsize: args.strsize,
        user,
    };
    match run::run(opts) {
        Ok(ExitStatus::Exited(code)) => ExitCode::from(code as u8),
        Ok(ExitStatus::Signaled { signal, .. }) => interpose::sys::signals::die_by(signal),
        Err(e) => fail(e.exit_code(), e),
    }
}
