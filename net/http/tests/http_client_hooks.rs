//! Request hooks (`ClientBuilder::on_event`) through the facade: the events
//! of a request that is redirected, of one on a kept-alive connection and of
//! one that fails, in order, with timings that add up.

mod http_client_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrio::http::{Client, ClientBuilder, Event};
use http_client_support::{ok, response, run, serve, Action};

/// Each event as a short name (with its status or timing), and the time
/// since its request started.
type Seen = Arc<Mutex<Vec<(String, Duration)>>>;

fn recording() -> (ClientBuilder, Seen) {
    let seen = Seen::default();
    let log = seen.clone();
    let builder = Client::builder().on_event(move |event, elapsed| {
        let name = match event {
            Event::RequestStart { method, .. } => format!("start {method}"),
            Event::DnsResolved { addrs, took, .. } => {
                assert!(!addrs.is_empty());
                assert!(*took <= elapsed, "a lookup inside the request");
                "dns".to_owned()
            }
            Event::ConnectionCreated { took, .. } => {
                assert!(*took <= elapsed, "a connect inside the request");
                "created".to_owned()
            }
            Event::ConnectionReused { .. } => "reused".to_owned(),
            Event::ResponseHead { status, .. } => format!("head {}", status.as_u16()),
            Event::Redirect { to, status, .. } => {
                format!("redirect {} {}", status.as_u16(), to.path())
            }
            Event::RequestEnd { status, .. } => format!("end {}", status.as_u16()),
            Event::RequestError { error, .. } => format!("error {:?}", error.kind()),
            _ => "other".to_owned(),
        };
        log.lock().unwrap().push((name, elapsed));
    });
    (builder, seen)
}

fn names(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(n, _)| n.clone())
        .collect()
}

#[test]
fn a_redirected_request_tells_each_step_in_order() {
    run(async {
        let server = serve(|r| match r.target.as_str() {
            "/old" => Action::Reply(response("302 Found", &["location: /new"], "")),
            _ => Action::Delay(
                Duration::from_millis(50),
                Box::new(Action::Reply(ok("here"))),
            ),
        })
        .await;
        let (builder, seen) = recording();
        let client = builder.build().unwrap();
        let response = client.get(server.url("/old")).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "here");
        assert_eq!(
            names(&seen),
            [
                "start GET",
                "dns",
                "created",
                "head 302",
                "redirect 302 /new",
                "reused",
                "head 200",
                "end 200"
            ]
        );
        let times: Vec<Duration> = seen.lock().unwrap().iter().map(|(_, t)| *t).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "time only goes on: {times:?}"
        );
        assert!(
            times[6] >= Duration::from_millis(50),
            "the server waited 50 ms: {times:?}"
        );
        assert!(times[7] < Duration::from_secs(5), "{times:?}");

        // The next request reuses the connection and starts its clock anew.
        seen.lock().unwrap().clear();
        client
            .get(server.url("/new"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(names(&seen), ["start GET", "reused", "head 200", "end 200"]);
        assert!(seen.lock().unwrap()[0].1 < Duration::from_millis(50));
    });
}

#[test]
fn a_failed_request_ends_with_its_error() {
    run(async {
        let (builder, seen) = recording();
        let client = builder.build().unwrap();
        // Nothing listens on port 1.
        let err = client.post("http://127.0.0.1:1/").send().await.unwrap_err();
        assert_eq!(
            names(&seen),
            [
                "start POST",
                "dns",
                format!("error {:?}", err.kind()).as_str()
            ]
        );
        // A status error from raise_for_status is an error too.
        let server = serve(|_| Action::Reply(response("404 Not Found", &[], ""))).await;
        let (builder, seen) = recording();
        let client = builder.raise_for_status(true).build().unwrap();
        client.get(server.url("/")).send().await.unwrap_err();
        assert_eq!(
            names(&seen),
            ["start GET", "dns", "created", "head 404", "error Status"]
        );
    });
}
