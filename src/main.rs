//! The `hollow` binary: parses the command line, calls the library, maps errors to exit codes.

fn main() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // Mesa's Vulkan loader probes for a Wayland display and prints "error: XDG_RUNTIME_DIR
        // is invalid" on headless machines; pointing it at the temp dir silences a false alarm.
        // SAFETY: first thing in main, before any thread exists.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
    match hollow::cli::main() {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
