use clap::Parser;

fn main() {
    let cli = shadergan::cli::Cli::parse();
    if let Err(e) = shadergan::cli::run(cli) {
        eprintln!("shadergan: error: {e:#}");
        std::process::exit(1);
    }
}
