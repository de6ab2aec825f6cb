use clap::Parser;

fn main() {
    let cli = shadergan::cli::Cli::parse();
    match shadergan::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("shadergan: error: {e:#}");
            std::process::exit(1);
        }
    }
}
