//! A connected TCP pair over 127.0.0.1, for the tests of sockets. Included
//! by each test with `#[path = "support/tcp_pair.rs"] mod tcp_pair;`.

use ferrio::net::{TcpListener, TcpStream};

/// A client and the server side of its connection, over 127.0.0.1.
pub(crate) async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}
