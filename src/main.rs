/// jemalloc keeps small per-request allocations thread-local, where glibc's arenas
/// contend under load (README, "Benchmarks").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    tessera::cli::main()
}
