//! A program with the usual reasons for a stall, and how ferrio's debug mode
//! and task dump point at each: a task that blocks the loop in
//! `std::thread::sleep`, a consumer waiting on an empty queue, a client
//! waiting on a server that never answers, and a task waiting on another.
//! docs/observability.md walks through its output.
//!
//! ```text
//! $ cargo run --example stuck                  # debug mode on in the code
//! $ RUST_LOG=ferrio=debug cargo run --example stuck
//! ```
//!
//! Not here: the trace (see `fetch_posts --trace`).

use std::time::Duration;

use ferrio::net::{TcpListener, TcpStream};
use ferrio::sync::Queue;
use ferrio::task::Builder;
use ferrio::time::sleep;

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let mut rt = ferrio::Runtime::builder()
        .debug(true)
        .build()
        .expect("an event loop");
    rt.block_on(async {
        // A server that accepts and then says nothing.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("its address");
        let _silent = ferrio::spawn(async move {
            let mut kept = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                kept.push(conn);
            }
        });

        let jobs = Queue::<String>::new();
        let consumer = Builder::new().name("consumer").spawn({
            let jobs = jobs.clone();
            async move {
                while let Ok(job) = jobs.get().await {
                    println!("job {job}");
                }
            }
        });
        let client = Builder::new().name("client").spawn(async move {
            let stream = TcpStream::connect(addr).await?;
            let mut reply = [0u8; 64];
            ferrio::io::AsyncReadExt::read(&mut &stream, &mut reply).await
        });
        let waiter = Builder::new().name("waiter").spawn(async move {
            let _ = client.await;
        });
        let blocker = Builder::new().name("blocker").spawn(async {
            sleep(Duration::from_millis(50)).await;
            // A blocking call in async code: the whole loop stops with it.
            std::thread::sleep(Duration::from_millis(1500));
        });

        sleep(Duration::from_millis(20)).await;
        println!(
            "--- ferrio::task::dump() after 20 ms\n{}",
            ferrio::task::dump()
        );
        blocker.await.expect("the blocker finishes");
        println!(
            "--- ferrio::metrics() after the blocker\n{}",
            ferrio::metrics()
        );
        consumer.abort();
        waiter.abort();
    });
}
