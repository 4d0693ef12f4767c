//! Graceful shutdown of `settle serve`: on SIGTERM or SIGINT it stops accepting connections,
//! lets in-flight requests finish (bounded by `--shutdown-timeout`), asks running bill runs to
//! stop at the next customer boundary, stops the daily bill run, and returns so the stores
//! close and the process exits 0.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use settle_engine::StopSignal;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Reads `--shutdown-timeout`: a whole number of seconds (`30s`) or minutes (`2m`), from one
/// second to one hour.
pub(crate) fn parse_timeout(text: &str) -> Result<Duration, String> {
    const SHAPE: &str = "a number of seconds or minutes, as 30s or 2m";
    let unit = text.chars().last();
    let number = &text[..text.len() - unit.map_or(0, char::len_utf8)];
    let seconds_per_unit = match unit {
        Some('s') => 1,
        Some('m') => 60,
        _ => return Err(SHAPE.to_owned()),
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .filter(|_| number.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.checked_mul(seconds_per_unit))
        .ok_or_else(|| SHAPE.to_owned())?;
    if !(1..=3600).contains(&seconds) {
        return Err("from 1 second to 1 hour".to_owned());
    }
    Ok(Duration::from_secs(seconds))
}

/// Whether the process was asked to stop; every clone sees the same request.
#[derive(Clone)]
pub(crate) struct Shutdown {
    requested: watch::Receiver<bool>,
}

impl Shutdown {
    /// Listens for SIGTERM and SIGINT; the first one raises `stop` (the engine's, so bill runs
    /// stop between customers) and wakes every [`Shutdown::requested`]. Call it on the runtime.
    pub(crate) fn on_signals(stop: StopSignal) -> anyhow::Result<Shutdown> {
        let (raise, requested) = watch::channel(false);
        let signal = signal().context("listening for SIGTERM and SIGINT")?;
        tokio::spawn(async move {
            signal.await;
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            stop.raise();
            // Every receiver lives in a task that is still running, or is gone already.
            let _ = raise.send(true);
        });
        Ok(Shutdown { requested })
    }

    /// Resolves once shutdown is asked for.
    pub(crate) async fn requested(mut self) {
        if self.requested.wait_for(|asked| *asked).await.is_err() {
            // The signal listener is gone without a signal (the runtime is ending): never.
            std::future::pending::<()>().await;
        }
    }

    /// Whether shutdown was asked for already.
    pub(crate) fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C); only Ctrl-C where there are no Unix signals.
#[cfg(unix)]
fn signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Waits for SIGTERM or SIGINT (Ctrl-C); only Ctrl-C where there are no Unix signals.
#[cfg(not(unix))]
fn signal() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Runs the server (and the daily bill run) until both end; once shutdown is asked for, they
/// get `timeout` to finish what is in flight, after which they are dropped, answered or not.
pub(crate) async fn serve_until_done(
    server: impl Future<Output = anyhow::Result<()>>,
    daily: Option<JoinHandle<()>>,
    shutdown: Shutdown,
    timeout: Duration,
) -> anyhow::Result<()> {
    let everything = async {
        server.await?;
        if let Some(daily) = daily {
            // A panic in the daily bill run was logged where it happened.
            let _ = daily.await;
        }
        Ok(())
    };
    tokio::pin!(everything);
    tokio::select! {
        done = &mut everything => return done,
        () = shutdown.requested() => {}
    }
    match tokio::time::timeout(timeout, everything).await {
        Ok(done) => done,
        Err(_) => {
            tracing::warn!(
                timeout_s = timeout.as_secs(),
                "shutdown timeout reached: requests still in flight are dropped"
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_timeout;

    #[test]
    fn a_shutdown_timeout_is_seconds_or_minutes_up_to_an_hour() {
        assert_eq!(parse_timeout("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_timeout("60m"), Ok(Duration::from_secs(3600)));
        for out_of_range in ["0s", "61m", "3601s"] {
            assert_eq!(parse_timeout(out_of_range), Err("from 1 second to 1 hour".into()));
        }
        for bad in ["", "30", "30h", "-1s", "1.5m", "3 s", "é", "99999999999999999999m"] {
            assert!(parse_timeout(bad).is_err(), "{bad:?}");
        }
    }
}
