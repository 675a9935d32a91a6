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
            eprintln!("error: {}", message(&e));
            std::process::exit(hollow::cli::exit_code(&e));
        }
    }
}

/// The error and its causes, each said once: library errors already put their cause's
/// text in their own message, which `{:#}` would repeat.
fn message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}
