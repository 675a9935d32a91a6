//! The `hollow` binary: parses the command line, calls the library, maps errors to exit codes.

fn main() {
    match hollow::cli::main() {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
