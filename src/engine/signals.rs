//! The signals that ask poolscope to stop (SIGINT, SIGTERM, SIGHUP), routed to a handler
//! on a thread of their own, so the headless collector and the live view's loop decide
//! what stopping means instead of the process dying mid-write.

use anyhow::Context;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Calls `handler` with each stop signal as it arrives, on a dedicated thread, until the
/// handler returns `false`.
pub fn on_stop_signals(
    mut handler: impl FnMut(i32) -> bool + Send + 'static,
) -> anyhow::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("poolscope-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if !handler(signal) {
                    break;
                }
            }
        })
        .context("spawning the signal thread")?;
    Ok(())
}
