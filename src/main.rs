fn main() {
    println!("shadergan");
}
