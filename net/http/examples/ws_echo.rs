//! aiohttp's `ws_connect`, ported: a WebSocket echo server from the test kit
//! on loopback, and a client that sends text, binary and a ping, reads each
//! answer under a timeout, and closes with the close handshake.
//!
//! ```text
//! $ cargo run -p ferrio-http --example ws_echo
//! connected to ws://127.0.0.1:40521/echo
//! sent "hello", got Some(Text("hello"))
//! sent 4 bytes, got Some(Binary(b"\0\x01\x02\xff"))
//! sent a ping, got Pong(b"ping!")
//! closed
//! ```

use std::time::Duration;

use ferrio::http::ws::Message;
use ferrio::http::Client;
use ferrio_testkit::ws::EchoServer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    ferrio::run(async {
        let server = EchoServer::bind("127.0.0.1:0").await?;
        let client = Client::builder()
            .read_timeout(Duration::from_secs(5))
            .build()?;
        let url = server.url("/echo");
        let mut ws = client.ws_connect(&url).await?;
        println!("connected to {url}");

        ws.send_text("hello").await?;
        println!("sent \"hello\", got {:?}", ws.receive().await?);
        ws.send_binary(vec![0u8, 1, 2, 255]).await?;
        println!("sent 4 bytes, got {:?}", ws.receive().await?);
        ws.ping(&b"ping!"[..]).await?;
        match ws.receive().await? {
            Some(Message::Pong(payload)) => println!("sent a ping, got Pong({payload:?})"),
            other => return Err(format!("expected a pong, got {other:?}").into()),
        }

        ws.close().await?;
        println!("closed");
        Ok(())
    })
}
