//! What a long command shows and hears while it works: the stop signals (SIGINT, SIGTERM,
//! SIGHUP: the crate's one handler, [`Signals`], which only raises a flag that the loops poll)
//! and the progress on stderr (a bar on a terminal, periodic lines in a batch log).
//! The commands themselves and their exit codes live in the other `cli` modules.

use super::CliError;
use anyhow::{Context, Result};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// The stop signals. `signal-hook` rather than `ctrlc`: it records which signal arrived,
/// so an interrupted command exits 130 (SIGINT) or 143 (SIGTERM, what Slurm sends) after
/// saving, and every signal only raises the flag (no second-signal exit that would lose
/// the output). The long loops poll `stop`.
pub struct Signals {
    pub stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl Signals {
    /// Installs the handlers for SIGINT, SIGTERM and SIGHUP.
    pub fn install() -> Result<Signals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        #[cfg(unix)]
        let signals = [SIGINT, SIGTERM, signal_hook::consts::SIGHUP];
        #[cfg(not(unix))]
        let signals = [SIGINT, SIGTERM];
        let stop = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for sig in signals {
            signal_hook::flag::register_usize(sig, which.clone(), sig as usize)
                .and_then(|_| signal_hook::flag::register(sig, stop.clone()))
                .with_context(|| format!("installing the handler of signal {sig}"))?;
        }
        Ok(Signals { stop, which })
    }

    /// The signal that asked to stop, if any.
    pub fn received(&self) -> Option<i32> {
        match self.which.load(Ordering::SeqCst) {
            0 if !self.stop.load(Ordering::SeqCst) => None,
            // The flag can be seen before the number; SIGINT is the usual one.
            0 => Some(signal_hook::consts::SIGINT),
            n => Some(n as i32),
        }
    }

    /// The error an interrupted command ends with, after saving.
    pub fn interrupted(&self, msg: String) -> anyhow::Error {
        let signal = self.received().unwrap_or(signal_hook::consts::SIGINT);
        let name = match signal {
            signal_hook::consts::SIGINT => "SIGINT".to_string(),
            signal_hook::consts::SIGTERM => "SIGTERM".to_string(),
            #[cfg(unix)]
            signal_hook::consts::SIGHUP => "SIGHUP".to_string(),
            n => format!("signal {n}"),
        };
        CliError::Interrupted { signal, msg: format!("{name}: {msg}") }.into()
    }
}

/// Progress of a long command on stderr: a bar on a terminal; otherwise (a batch job's log,
/// where a bar shows nothing until the end) a plain line "progress: done/total unit (x%),
/// rate, ETA" every `HOLLOW_PROGRESS_SECS` seconds (default 30) and when it ends.
pub(super) struct Progress {
    bar: indicatif::ProgressBar,
    log: Option<std::sync::Mutex<ProgressLog>>,
    unit: &'static str,
}

struct ProgressLog {
    every: f64,
    started: Instant,
    last: Option<Instant>,
    /// Position when the rate's clock started (work found done does not count).
    base: u64,
    pos: u64,
    len: u64,
}

impl Progress {
    pub(super) fn new(len: u64, quiet: bool, unit: &'static str) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = if quiet || !terminal {
            indicatif::ProgressBar::hidden()
        } else {
            let pb = indicatif::ProgressBar::new(len);
            let template = format!(
                "{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}"
            );
            pb.set_style(indicatif::ProgressStyle::with_template(&template).expect("static template"));
            pb
        };
        let every = std::env::var("HOLLOW_PROGRESS_SECS").ok().and_then(|v| v.parse::<f64>().ok()).unwrap_or(30.0);
        let log = (!quiet && !terminal).then(|| {
            std::sync::Mutex::new(ProgressLog { every, started: Instant::now(), last: None, base: 0, pos: 0, len })
        });
        Progress { bar, log, unit }
    }

    /// A new total, and `pos` already done before the rate's clock starts (a resumed sweep).
    pub(super) fn restart(&self, len: u64, pos: u64) {
        self.bar.set_length(len);
        self.bar.set_position(pos);
        self.bar.reset_eta();
        self.bar.reset_elapsed();
        if let Some(l) = &self.log {
            let mut l = l.lock().unwrap_or_else(|p| p.into_inner());
            (l.len, l.base, l.pos, l.started) = (len, pos, pos, Instant::now());
        }
    }

    pub(super) fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
        if let Some(l) = &self.log {
            let mut l = l.lock().unwrap_or_else(|p| p.into_inner());
            l.pos = pos;
            if l.last.is_none_or(|t| t.elapsed().as_secs_f64() >= l.every) {
                l.last = Some(Instant::now());
                eprintln!("{}", l.line(self.unit));
            }
        }
    }

    pub(super) fn println(&self, line: String) {
        if self.bar.is_hidden() { eprintln!("{line}") } else { self.bar.println(line) }
    }

    /// Clears the bar; in a log, the last progress line.
    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
        if let Some(l) = &self.log {
            eprintln!("{}", l.lock().unwrap_or_else(|p| p.into_inner()).line(self.unit));
        }
    }
}

impl ProgressLog {
    fn line(&self, unit: &str) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = (self.pos - self.base.min(self.pos)) as f64 / secs.max(1e-9);
        let left = self.len.saturating_sub(self.pos) as f64;
        let eta = if rate > 0.0 { format!("ETA {}", fmt_secs(left / rate)) } else { "ETA unknown".into() };
        let pct = 100.0 * self.pos as f64 / self.len.max(1) as f64;
        format!("progress: {}/{} {unit} ({pct:.1}%), {rate:.3} {unit}/s, {eta}", self.pos, self.len)
    }
}

/// Seconds as "1h 02m", "3m 07s" or "12s".
pub(super) fn fmt_secs(s: f64) -> String {
    let s = s.round().max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
}
