//! The built binary in a pseudo-terminal of a set size, its output parsed by a terminal
//! emulator (vt100), so tests (and the view benchmark) read the screen as a user sees it,
//! press keys, resize, and check how the terminal is left.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};

use super::{bin, wait_until};

pub struct Pty {
    master: Box<dyn MasterPty + Send>,
    _slave: Box<dyn portable_pty::SlavePty + Send>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte poolscope wrote to the terminal, in order.
    raw: Arc<Mutex<Vec<u8>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    /// The line discipline before poolscope started (it may be raw by the first look).
    pub discipline_at_start: (bool, bool),
}

impl Pty {
    /// poolscope with `args` in `cwd`, in a `cols`×`rows` terminal, without colour
    /// (`NO_COLOR`) so bars can be read off the screen text.
    pub fn spawn(args: &[&str], cwd: &Path, cols: u16, rows: u16) -> Pty {
        Self::spawn_with(args, cwd, cols, rows, &[("NO_COLOR", "1")])
    }

    /// Like [`Pty::spawn`], with exactly the extra environment `env`.
    pub fn spawn_with(
        args: &[&str],
        cwd: &Path,
        cols: u16,
        rows: u16,
        env: &[(&str, &str)],
    ) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let discipline_at_start = discipline(pair.master.as_raw_fd().expect("a unix pty"));
        let mut cmd = CommandBuilder::new(bin());
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env("TERM", "xterm-256color");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = pair.slave.spawn_command(cmd).unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(nz(rows), nz(cols), 0)));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let sink = Arc::clone(&parser);
        let raw = Arc::new(Mutex::new(Vec::new()));
        let raw_sink = Arc::clone(&raw);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                raw_sink
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
                let mut parser = lock(&sink);
                // The emulator itself can panic on odd sizes (1×1 mid-resize); the test is
                // about poolscope, so start a fresh emulator of the same size: poolscope
                // redraws the whole screen after every resize.
                let fed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    parser.process(&buf[..n])
                }));
                if fed.is_err() {
                    let (rows, cols) = parser.screen().size();
                    *parser = vt100::Parser::new(rows, cols, 0);
                }
            }
        });
        let writer = pair.master.take_writer().unwrap();
        Pty {
            master: pair.master,
            _slave: pair.slave,
            writer,
            parser,
            raw,
            child,
            discipline_at_start,
        }
    }

    /// Every byte poolscope wrote to the terminal so far (escape sequences included).
    pub fn raw_output(&self) -> Vec<u8> {
        self.raw.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn screen(&self) -> String {
        lock(&self.parser).screen().contents()
    }

    pub fn wait_for(&self, what: &str, timeout: Duration) -> String {
        let mut screen = String::new();
        let found = wait_until(timeout, || {
            screen = self.screen();
            screen.contains(what)
        });
        assert!(
            found,
            "waited {timeout:?} for {what:?}; the screen:\n{screen}"
        );
        // A frame is written in pieces, and `what` may be in its first (the header): read
        // again until two reads agree (or a little while has passed), so the caller gets a
        // whole frame, not one half drawn over the last.
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(30));
            let again = self.screen();
            if again == screen {
                break;
            }
            if again.contains(what) {
                screen = again;
            }
        }
        screen
    }

    pub fn press(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// (canonical input, echo) of the terminal, read from the pty itself.
    pub fn line_discipline(&self) -> (bool, bool) {
        discipline(self.master.as_raw_fd().expect("a unix pty"))
    }

    /// The terminal is as it was: main screen, cursor shown, cooked mode with echo.
    pub fn assert_restored(&self) {
        // The last bytes poolscope wrote may still be on their way through the reader
        // thread when it has exited: give them a moment before judging.
        wait_until(Duration::from_secs(5), || {
            let parser = lock(&self.parser);
            !parser.screen().alternate_screen() && !parser.screen().hide_cursor()
        });
        let parser = lock(&self.parser);
        assert!(
            !parser.screen().alternate_screen(),
            "left the alternate screen"
        );
        assert!(!parser.screen().hide_cursor(), "cursor shown again");
        assert_eq!(
            parser.screen().mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse capture off again"
        );
        drop(parser);
        assert_eq!(
            self.line_discipline(),
            (true, true),
            "raw mode is off again"
        );
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let mut status = None;
        assert!(
            wait_until(timeout, || {
                status = self.child.try_wait().unwrap();
                status.is_some()
            }),
            "poolscope did not exit; the screen:\n{}",
            self.screen()
        );
        status.unwrap()
    }

    /// Resizes the terminal (and the emulator reading it), as a user dragging the window.
    pub fn resize(&self, cols: u16, rows: u16) {
        let size = PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        };
        self.master.resize(size).unwrap();
        lock(&self.parser).set_size(nz(rows), nz(cols));
    }

    /// The process id of poolscope.
    pub fn pid(&self) -> u32 {
        self.child.process_id().unwrap()
    }

    /// Whether poolscope has the alternate screen.
    pub fn alternate_screen(&self) -> bool {
        lock(&self.parser).screen().alternate_screen()
    }
}

/// The emulator, even if a panic in it poisoned the lock.
fn lock(parser: &Mutex<vt100::Parser>) -> std::sync::MutexGuard<'_, vt100::Parser> {
    parser.lock().unwrap_or_else(|e| e.into_inner())
}

fn nz(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap()
}

/// (canonical, echo) of the pty whose master is `fd`.
fn discipline(fd: std::os::fd::RawFd) -> (bool, bool) {
    // SAFETY: tcgetattr fills the zeroed termios we own; fd is the open pty master.
    let mut termios: libc::termios = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::tcgetattr(fd, &mut termios) }, 0);
    (
        termios.c_lflag & libc::ICANON != 0,
        termios.c_lflag & libc::ECHO != 0,
    )
}
