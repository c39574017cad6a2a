/// glibc malloc was ~9% of /token CPU (arena locks, consolidation); jemalloc keeps
/// small per-request allocations thread-local.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::process::ExitCode;

fn main() -> ExitCode {
    tessera::cli::main()
}
