//! The `netsniff` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = netsniff::cli::parse();
    match netsniff::run(args) {
        Ok(status) => status.into(),
        Err(err) => {
            if netsniff::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("netsniff: {err:#}");
            ExitCode::from(2)
        }
    }
}
