//! UDP through the facade, on loopback. Every wait is bounded by a timeout.

use std::io::ErrorKind;
use std::time::Duration;

use ferrio::net::UdpSocket;
use ferrio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

#[path = "support/bounded.rs"]
mod bounded;

fn run<F: std::future::Future>(test: F) -> F::Output {
    bounded::run_within(LIMIT, "the test", test)
}

/// An echo service on `socket`: each datagram goes back to its sender.
fn serve_echo(socket: UdpSocket) {
    ferrio::spawn(async move {
        let mut buf = vec![0; 65_536];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.expect("recv_from failed");
            socket
                .send_to(&buf[..n], from)
                .await
                .expect("send_to failed");
        }
    });
}

#[test]
fn datagrams_round_trip_through_an_echo_socket() {
    run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        serve_echo(server);

        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = vec![0; 65_536];
        for size in [0, 1, 512, 1_472, 9_000, 60_000] {
            let msg: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
            assert_eq!(client.send_to(&msg, server_addr).await.unwrap(), size);
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server_addr);
            assert!(
                buf[..n] == msg[..],
                "datagram of {size} bytes came back different"
            );
        }
    });
}

#[test]
fn a_connected_socket_sends_and_receives_with_its_peer() {
    run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        serve_echo(server);

        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(server_addr).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), server_addr);
        for i in 0..100u32 {
            client.send(&i.to_be_bytes()).await.unwrap();
            let mut buf = [0; 4];
            assert_eq!(client.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(u32::from_be_bytes(buf), i);
        }
    });
}

#[test]
fn send_on_an_unconnected_socket_is_an_error() {
    run(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = socket.send(b"nowhere").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
    });
}

#[test]
fn a_cancelled_recv_loses_no_datagram() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0; 16];
        assert!(timeout(Duration::from_millis(20), b.recv_from(&mut buf))
            .await
            .is_err());
        a.send_to(b"kept", b.local_addr().unwrap()).await.unwrap();
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"kept"[..], a.local_addr().unwrap()));
    });
}

#[test]
fn datagrams_round_trip_over_ipv6_loopback() {
    run(async {
        let server = match UdpSocket::bind("[::1]:0").await {
            Ok(s) => s,
            Err(e) => {
                println!("skipped: IPv6 loopback unavailable ({e})");
                return;
            }
        };
        let server_addr = server.local_addr().unwrap();
        serve_echo(server);
        let client = UdpSocket::bind("[::1]:0").await.unwrap();
        client.send_to(b"six", server_addr).await.unwrap();
        let mut buf = [0; 8];
        let (n, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"six"[..], server_addr));
    });
}
