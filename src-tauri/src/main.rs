//! The `loopgate` binary: CLI entry only; everything lives in the library.

fn main() -> std::process::ExitCode {
    loopgate::cli::main()
}
