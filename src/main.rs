//! novacron binary: everything lives in the library; see `novacron --help`.

fn main() -> std::process::ExitCode {
    novacron::cli::main()
}
