//! Links libquant.so. Set LIBQUANT_LIB_DIR to the folder holding libquant.so when it is not on
//! the linker's path; the program then finds it there at run time too (rpath).
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBQUANT_LIB_DIR");
    if let Ok(dir) = env::var("LIBQUANT_LIB_DIR") {
        println!("cargo:rustc-link-search=native={}", dir);
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
    }
    println!("cargo:rustc-link-lib=dylib=quant");
}
