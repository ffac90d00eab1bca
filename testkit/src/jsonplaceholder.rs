// Whole on purpose (about 1,000 lines, 200 of them its tests): one fake API, whose routes and deterministic data generator are read together.
//! An embedded jsonplaceholder: the fake REST API that `examples/fetch_posts.rs`
//! fetches posts from, served locally on ferrio's [`server`].
//!
//! It has the real site's resources, counts and JSON shapes: `/posts` (100),
//! `/comments` (500, 5 per post), `/albums` (100), `/photos` (5000, 50 per
//! album), `/todos` (200) and `/users` (10, with nested `address`, `geo` and
//! `company` objects); one item by id (`/posts/7`), the nested lists
//! (`/posts/7/comments`, `/albums/1/photos`, `/users/1/posts`, `albums`,
//! `todos`), filters on any field (`/comments?postId=7`), and `404 {}` for
//! an unknown id or path. `POST`, `PUT`, `PATCH` and `DELETE` answer as the
//! real site does, echoing the change without keeping it.
//!
//! The text is a deterministic lorem-ipsum-like generator's: the same bytes on
//! every run and machine. Each request waits for a configurable latency
//! (default 100 ms, like a real network; on the runtime's timers, so it does
//! not block the loop), and the server counts the connections open at once, so
//! a test can check a client's connection limit.
//!
//! It is not a mock of the real site's text, and it does not persist writes.
//!
//! ```
//! use std::time::Duration;
//! use ferrio_testkit::jsonplaceholder;
//! use futures_util::{AsyncReadExt, AsyncWriteExt};
//!
//! ferrio::run(async {
//!     let server = jsonplaceholder::Server::builder()
//!         .latency(Duration::from_millis(5))
//!         .bind("127.0.0.1:0")
//!         .await
//!         .unwrap();
//!     let mut conn = ferrio::net::TcpStream::connect(server.local_addr()).await.unwrap();
//!     conn.write_all(b"GET /posts/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
//!     let mut reply = String::new();
//!     conn.read_to_string(&mut reply).await.unwrap();
//!     assert!(reply.starts_with("HTTP/1.1 200 OK"));
//!     assert!(reply.contains("\"userId\": 1,\n  \"id\": 1,\n  \"title\": "));
//!     assert_eq!(server.max_open_connections(), 1);
//!     server.shutdown().await;
//! });
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ferrio_reactor::time::sleep;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use ferrio_http::server::{self, ServerRequest, ServerResponse};

/// Posts on the real site (10 per user).
pub const POSTS: u64 = 100;
/// Comments on the real site (5 per post).
pub const COMMENTS: u64 = 500;
/// Albums on the real site (10 per user).
pub const ALBUMS: u64 = 100;
/// Photos on the real site (50 per album).
pub const PHOTOS: u64 = 5000;
/// Todos on the real site (20 per user).
pub const TODOS: u64 = 200;
/// Users on the real site.
pub const USERS: u64 = 10;

/// The latency a request waits for unless told otherwise.
pub const DEFAULT_LATENCY: Duration = Duration::from_millis(100);

/// Configures a [`Server`]: its latency and the underlying server's limits.
///
/// ```
/// use std::time::Duration;
/// use ferrio::http::server;
/// use ferrio_testkit::jsonplaceholder;
///
/// ferrio::run(async {
///     let server = jsonplaceholder::Server::builder()
///         .latency(Duration::ZERO)
///         .server(server::Builder::new().keep_alive_timeout(Duration::from_secs(1)))
///         .bind("127.0.0.1:0")
///         .await
///         .unwrap();
///     assert!(server.base_url().starts_with("http://127.0.0.1:"));
///     server.shutdown().await;
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    latency: Duration,
    server: server::Builder,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            latency: DEFAULT_LATENCY,
            server: server::Builder::new(),
        }
    }
}

impl Builder {
    /// How long each request waits before it is answered. Default 100 ms.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The limits and timeouts of the HTTP server underneath.
    pub fn server(mut self, server: server::Builder) -> Self {
        self.server = server;
        self
    }

    /// Generates the data, binds to `addr` and starts serving in a task of
    /// the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    ///
    /// # Errors
    ///
    /// Those of [`TcpListener::bind`](ferrio_net::TcpListener::bind) for `addr`.
    pub async fn bind<A: ferrio_net::ToSocketAddrs>(self, addr: A) -> io::Result<Server> {
        let api = Arc::new(Api::new());
        let latency = self.latency;
        let handle = self
            .server
            .bind(addr)
            .await?
            .spawn(move |request: ServerRequest| {
                let api = api.clone();
                async move {
                    if !latency.is_zero() {
                        sleep(latency).await;
                    }
                    let response = api.respond(&request);
                    log::debug!(
                        "{} {} -> {}",
                        request.method(),
                        request.uri(),
                        response.status().as_u16()
                    );
                    response
                }
            });
        Ok(Server { handle })
    }
}

/// A running jsonplaceholder: its address, its connection counters, and the
/// way to stop it.
#[derive(Debug, Clone)]
pub struct Server {
    handle: server::ServerHandle,
}

impl Server {
    /// A builder, with a 100 ms latency and the server's default limits.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Binds to `addr` with the defaults; see [`Builder::bind`].
    ///
    /// # Errors
    ///
    /// As [`Builder::bind`].
    pub async fn bind<A: ferrio_net::ToSocketAddrs>(addr: A) -> io::Result<Server> {
        Builder::default().bind(addr).await
    }

    /// The address it accepts on.
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// `http://<local_addr>`: the base URL to put paths like `/posts/1` after.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr())
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.handle.open_connections()
    }

    /// The most connections that were open at once, since the start or the
    /// last [`reset_max_open_connections`](Server::reset_max_open_connections).
    pub fn max_open_connections(&self) -> usize {
        self.handle.max_open_connections()
    }

    /// Starts a new measurement of the most connections open at once.
    pub fn reset_max_open_connections(&self) {
        self.handle.reset_max_open_connections()
    }

    /// Connections accepted since the start.
    pub fn connections_accepted(&self) -> u64 {
        self.handle.connections_accepted()
    }

    /// Requests answered since the start.
    pub fn requests_served(&self) -> u64 {
        self.handle.requests_served()
    }

    /// The underlying server's handle.
    pub fn handle(&self) -> &server::ServerHandle {
        &self.handle
    }

    /// Stops gracefully; see [`server::ServerHandle::shutdown`].
    pub async fn shutdown(&self) -> usize {
        self.handle.shutdown().await
    }
}

/// The API itself, sans I/O: the generated data and the routing, answering one
/// request at a time. [`Server`] serves it; tests and benchmarks may call it
/// directly.
///
/// ```
/// use ferrio_testkit::jsonplaceholder::Api;
///
/// let api = Api::new();
/// let request = http::Request::get("/comments?postId=3").body(Vec::new()).unwrap();
/// let response = api.respond(&request);
/// let comments: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
/// assert_eq!(comments.as_array().unwrap().len(), 5);
/// assert_eq!(comments[0]["postId"], 3);
/// ```
#[derive(Debug, Clone)]
pub struct Api {
    posts: Vec<Value>,
    comments: Vec<Value>,
    albums: Vec<Value>,
    photos: Vec<Value>,
    todos: Vec<Value>,
    users: Vec<Value>,
}

impl Default for Api {
    fn default() -> Self {
        Api::new()
    }
}

/// The resources, and which field of a resource names its parent.
const RESOURCES: [&str; 6] = ["posts", "comments", "albums", "photos", "todos", "users"];

impl Api {
    /// Generates every resource (deterministically: the same data each time).
    pub fn new() -> Api {
        Api {
            posts: (1..=POSTS).map(post).collect(),
            comments: (1..=COMMENTS).map(comment).collect(),
            albums: (1..=ALBUMS).map(album).collect(),
            photos: (1..=PHOTOS).map(photo).collect(),
            todos: (1..=TODOS).map(todo).collect(),
            users: (1..=USERS).map(user).collect(),
        }
    }

    fn resource(&self, name: &str) -> Option<&[Value]> {
        Some(match name {
            "posts" => &self.posts,
            "comments" => &self.comments,
            "albums" => &self.albums,
            "photos" => &self.photos,
            "todos" => &self.todos,
            "users" => &self.users,
            _ => return None,
        })
    }

    /// Answers one request: JSON with the real site's status codes.
    pub fn respond(&self, request: &ServerRequest) -> ServerResponse {
        let (status, value) = self.route(request.method(), request.uri(), request.body());
        // A HEAD response keeps its body: the server sends its length, not its bytes.
        let body = serde_json::to_vec_pretty(&value).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = ServerResponse::new(body);
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        response
    }

    fn route(&self, method: &Method, uri: &http::Uri, body: &[u8]) -> (StatusCode, Value) {
        let not_found = (StatusCode::NOT_FOUND, json!({}));
        let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
        let query = parse_query(uri.query().unwrap_or(""));
        let read = method == Method::GET || method == Method::HEAD;

        match segments[..] {
            [] if read => (
                StatusCode::OK,
                json!({ "resources": RESOURCES.map(|r| format!("/{r}")) }),
            ),
            [name] => {
                let Some(items) = self.resource(name) else {
                    return not_found;
                };
                if read {
                    (StatusCode::OK, filter(items, &query, None))
                } else if method == Method::POST {
                    match parse_object(body) {
                        Ok(mut object) => {
                            object.insert("id".into(), json!(items.len() + 1));
                            (StatusCode::CREATED, Value::Object(object))
                        }
                        Err(e) => e,
                    }
                } else {
                    (StatusCode::NOT_FOUND, json!({}))
                }
            }
            [name, id] => {
                let Some(items) = self.resource(name) else {
                    return not_found;
                };
                let Some(item) = find(items, id) else {
                    return not_found;
                };
                match *method {
                    Method::GET | Method::HEAD => (StatusCode::OK, item.clone()),
                    Method::DELETE => (StatusCode::OK, json!({})),
                    Method::PUT | Method::PATCH => match parse_object(body) {
                        Ok(changes) => {
                            let mut object = if *method == Method::PATCH {
                                item.as_object().cloned().unwrap_or_default()
                            } else {
                                Map::new()
                            };
                            object.extend(changes);
                            object.insert("id".into(), item["id"].clone());
                            (StatusCode::OK, Value::Object(object))
                        }
                        Err(e) => e,
                    },
                    _ => not_found,
                }
            }
            [parent, id, child] if read => {
                let key = match (parent, child) {
                    ("posts", "comments") => "postId",
                    ("albums", "photos") => "albumId",
                    ("users", "posts" | "albums" | "todos") => "userId",
                    _ => return not_found,
                };
                let Some(items) = self.resource(child) else {
                    return not_found;
                };
                (StatusCode::OK, filter(items, &query, Some((key, id))))
            }
            _ => not_found,
        }
    }
}

/// A request body that must be a JSON object, or the 400 to answer.
fn parse_object(body: &[u8]) -> Result<Map<String, Value>, (StatusCode, Value)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err((
            StatusCode::BAD_REQUEST,
            json!({ "error": "the body is not a JSON object" }),
        )),
        Err(e) => Err((
            StatusCode::BAD_REQUEST,
            json!({ "error": format!("invalid JSON: {e}") }),
        )),
    }
}

/// The item whose `id` is `id` (items are stored in id order from 1).
fn find<'a>(items: &'a [Value], id: &str) -> Option<&'a Value> {
    let id: usize = id.parse().ok()?;
    items.get(id.checked_sub(1)?)
}

/// A field's value as the text a query would name it by.
fn field_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The items whose fields match the query (each named field equal to one of
/// the values given for it) and `parent`'s key, as a JSON array. Query keys
/// starting with `_` (json-server's paging and sorting) are ignored.
fn filter(items: &[Value], query: &[(String, String)], parent: Option<(&str, &str)>) -> Value {
    // Each group: a field and the values it may have.
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (key, value) in query.iter().filter(|(k, _)| !k.starts_with('_')) {
        match groups.iter_mut().find(|(k, _)| k == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    if let Some((key, id)) = parent {
        groups.push((key, vec![id]));
    }
    let matches = |item: &Value| {
        groups.iter().all(|(key, values)| {
            let actual = item.get(*key).and_then(field_text);
            actual.is_some_and(|a| values.contains(&a.as_str()))
        })
    };
    Value::Array(items.iter().filter(|item| matches(item)).cloned().collect())
}

/// Splits `a=1&b=x%20y` into decoded pairs (`+` is a space; invalid escapes
/// stay as they are).
fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

// ---- Deterministic generated data ----------------------------------------

/// splitmix64: a tiny, good-enough generator, seeded per item and field so
/// that every item's text is the same whatever is generated around it.
struct Rng(u64);

impl Rng {
    fn new(kind: u64, id: u64) -> Rng {
        Rng(kind.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ id.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[(self.next() % list.len() as u64) as usize]
    }

    /// `min..=max` lorem words separated by spaces.
    fn words(&mut self, min: u64, max: u64) -> String {
        let n = self.range(min, max);
        (0..n)
            .map(|_| self.pick(LOREM))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Four lines of lorem words, like the real site's bodies.
    fn paragraph(&mut self) -> String {
        (0..4)
            .map(|_| self.words(6, 11))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

const LOREM: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipisci",
    "velit",
    "sed",
    "quia",
    "non",
    "numquam",
    "eius",
    "modi",
    "tempora",
    "incidunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magnam",
    "aliquam",
    "quaerat",
    "voluptatem",
    "enim",
    "ad",
    "minima",
    "veniam",
    "quis",
    "nostrum",
    "exercitationem",
    "ullam",
    "corporis",
    "suscipit",
    "laboriosam",
    "nisi",
    "aliquid",
    "ex",
    "ea",
    "commodi",
    "consequatur",
    "autem",
    "vel",
    "eum",
    "iure",
    "reprehenderit",
    "qui",
    "in",
    "voluptate",
    "esse",
    "quam",
    "nihil",
    "molestiae",
    "illum",
    "fugiat",
    "quo",
    "voluptas",
    "nulla",
    "pariatur",
    "at",
    "vero",
    "accusamus",
    "iusto",
    "odio",
    "dignissimos",
    "ducimus",
    "blanditiis",
    "praesentium",
    "deleniti",
    "atque",
    "corrupti",
    "quos",
    "dolores",
    "quas",
    "molestias",
    "excepturi",
    "sint",
    "occaecati",
    "cupiditate",
    "provident",
    "similique",
    "sunt",
    "culpa",
    "officia",
    "deserunt",
    "mollitia",
    "animi",
    "id",
    "est",
    "laborum",
    "dolorum",
    "fuga",
    "harum",
    "rerum",
    "facilis",
    "expedita",
    "distinctio",
    "nam",
    "libero",
    "tempore",
    "soluta",
    "nobis",
    "eligendi",
    "optio",
    "cumque",
    "impedit",
    "placeat",
    "facere",
    "possimus",
    "omnis",
    "assumenda",
    "repellendus",
];

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Bertram",
    "Celia",
    "Dorian",
    "Edda",
    "Fennimore",
    "Greta",
    "Hollis",
    "Ines",
    "Jasper",
    "Kirsten",
    "Leopold",
    "Mirela",
    "Nestor",
    "Odile",
    "Pascal",
    "Quilla",
    "Rosalind",
    "Silas",
    "Thea",
];

const LAST_NAMES: &[&str] = &[
    "Abernathy",
    "Brightwater",
    "Castellan",
    "Dunmore",
    "Ellery",
    "Fairbrook",
    "Galloway",
    "Hartwell",
    "Ingersoll",
    "Jessup",
    "Kettering",
    "Lindqvist",
    "Marchetti",
    "Northcott",
    "Oakley",
    "Pemberton",
];

const STREET_KINDS: &[&str] = &[
    "Street", "Avenue", "Lane", "Road", "Way", "Court", "Terrace", "Crossing",
];
const CITY_ENDINGS: &[&str] = &["ville", "burgh", "ton", "haven", "port", "field", "mouth"];
const TLDS: &[&str] = &["com", "net", "org", "io", "biz", "info", "tv", "me"];
const COMPANY_SUFFIXES: &[&str] = &["Group", "LLC", "and Sons", "Inc", "Holdings"];
const CATCH_PHRASE: [&[&str]; 3] = [
    &[
        "Adaptive",
        "Balanced",
        "Configurable",
        "Distributed",
        "Ergonomic",
        "Focused",
        "Integrated",
        "Robust",
    ],
    &[
        "asynchronous",
        "client-driven",
        "event-based",
        "fault-tolerant",
        "modular",
        "real-time",
        "scalable",
    ],
    &[
        "framework",
        "interface",
        "middleware",
        "pipeline",
        "protocol",
        "service-desk",
        "throughput",
    ],
];
const BS: [&[&str]; 3] = [
    &[
        "aggregate",
        "deploy",
        "embrace",
        "harness",
        "orchestrate",
        "streamline",
        "synthesize",
    ],
    &[
        "cross-platform",
        "end-to-end",
        "frictionless",
        "next-generation",
        "turn-key",
        "zero-copy",
    ],
    &[
        "architectures",
        "channels",
        "ecosystems",
        "event loops",
        "markets",
        "networks",
        "workflows",
    ],
];

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The id of the parent of the `id`th child when each parent has `per` children.
fn parent_of(id: u64, per: u64) -> u64 {
    (id - 1) / per + 1
}

fn post(id: u64) -> Value {
    let mut rng = Rng::new(1, id);
    json!({
        "userId": parent_of(id, POSTS / USERS),
        "id": id,
        "title": rng.words(3, 8),
        "body": rng.paragraph(),
    })
}

fn comment(id: u64) -> Value {
    let mut rng = Rng::new(2, id);
    let name = rng.words(3, 7);
    let email = format!(
        "{}@{}.{}",
        rng.pick(FIRST_NAMES),
        rng.pick(LOREM),
        rng.pick(TLDS)
    );
    json!({
        "postId": parent_of(id, COMMENTS / POSTS),
        "id": id,
        "name": name,
        "email": email,
        "body": rng.paragraph(),
    })
}

fn album(id: u64) -> Value {
    let mut rng = Rng::new(3, id);
    json!({ "userId": parent_of(id, ALBUMS / USERS), "id": id, "title": rng.words(2, 7) })
}

fn photo(id: u64) -> Value {
    let mut rng = Rng::new(4, id);
    let title = rng.words(3, 8);
    let color = format!("{:06x}", rng.next() & 0xff_ffff);
    json!({
        "albumId": parent_of(id, PHOTOS / ALBUMS),
        "id": id,
        "title": title,
        "url": format!("https://via.placeholder.com/600/{color}"),
        "thumbnailUrl": format!("https://via.placeholder.com/150/{color}"),
    })
}

fn todo(id: u64) -> Value {
    let mut rng = Rng::new(5, id);
    let title = rng.words(2, 8);
    json!({ "userId": parent_of(id, TODOS / USERS), "id": id, "title": title, "completed": rng.next() % 2 == 0 })
}

fn user(id: u64) -> Value {
    let mut rng = Rng::new(6, id);
    // One of two first names of its own per user, so the ten names differ.
    let first = FIRST_NAMES[((id - 1) * 2 + rng.range(0, 1)) as usize];
    let last = rng.pick(LAST_NAMES);
    let domain = format!("{}.{}", rng.pick(LOREM), rng.pick(TLDS));
    let suite = format!(
        "{} {}",
        if rng.next() % 2 == 0 { "Apt." } else { "Suite" },
        rng.range(100, 999)
    );
    let lat = rng.range(0, 1_800_000) as f64 / 10_000.0 - 90.0;
    let lng = rng.range(0, 3_600_000) as f64 / 10_000.0 - 180.0;
    json!({
        "id": id,
        "name": format!("{first} {last}"),
        "username": format!("{first}.{}", capitalize(rng.pick(LOREM))),
        "email": format!("{}@{domain}", first.to_lowercase()),
        "address": {
            "street": format!("{} {}", capitalize(rng.pick(LOREM)), rng.pick(STREET_KINDS)),
            "suite": suite,
            "city": format!("{}{}", capitalize(rng.pick(LOREM)), rng.pick(CITY_ENDINGS)),
            "zipcode": format!("{}-{}", rng.digits(5), rng.digits(4)),
            "geo": { "lat": format!("{lat:.4}"), "lng": format!("{lng:.4}") },
        },
        "phone": format!("1-{}-{}-{} x{}", rng.digits(3), rng.digits(3), rng.digits(4), rng.digits(5)),
        "website": format!("{}.{}", rng.pick(LOREM), rng.pick(TLDS)),
        "company": {
            "name": format!("{}-{} {}", rng.pick(LAST_NAMES), rng.pick(LAST_NAMES), rng.pick(COMPANY_SUFFIXES)),
            "catchPhrase": CATCH_PHRASE.map(|words| rng.pick(words)).join(" "),
            "bs": BS.map(|words| rng.pick(words)).join(" "),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(api: &Api, path: &str) -> (StatusCode, Value) {
        send(api, Method::GET, path, "")
    }

    fn send(api: &Api, method: Method, path: &str, body: &str) -> (StatusCode, Value) {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .body(body.as_bytes().to_vec())
            .unwrap();
        let response = api.respond(&request);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        (
            response.status(),
            serde_json::from_slice(response.body()).unwrap(),
        )
    }

    fn len(value: &Value) -> usize {
        value.as_array().map_or(0, Vec::len)
    }

    #[test]
    fn collections_have_the_real_sites_sizes() {
        let api = Api::new();
        for (path, n) in [
            ("/posts", 100),
            ("/comments", 500),
            ("/albums", 100),
            ("/photos", 5000),
            ("/todos", 200),
            ("/users", 10),
        ] {
            let (status, list) = get(&api, path);
            assert_eq!((status, len(&list)), (StatusCode::OK, n), "{path}");
            assert_eq!(list[0]["id"], 1, "{path}");
            assert_eq!(list[n - 1]["id"], n, "{path}");
        }
    }

    #[test]
    fn items_have_the_real_sites_fields_in_order() {
        let api = Api::new();
        let keys = |v: &Value| {
            v.as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(keys(&get(&api, "/posts/1").1), "userId,id,title,body");
        assert_eq!(
            keys(&get(&api, "/comments/1").1),
            "postId,id,name,email,body"
        );
        assert_eq!(keys(&get(&api, "/albums/1").1), "userId,id,title");
        assert_eq!(
            keys(&get(&api, "/photos/1").1),
            "albumId,id,title,url,thumbnailUrl"
        );
        assert_eq!(keys(&get(&api, "/todos/1").1), "userId,id,title,completed");
        let user = get(&api, "/users/1").1;
        assert_eq!(
            keys(&user),
            "id,name,username,email,address,phone,website,company"
        );
        assert_eq!(keys(&user["address"]), "street,suite,city,zipcode,geo");
        assert_eq!(keys(&user["address"]["geo"]), "lat,lng");
        assert_eq!(keys(&user["company"]), "name,catchPhrase,bs");
        assert!(user["address"]["geo"]["lat"].is_string());
    }

    #[test]
    fn posts_belong_to_users_and_comments_to_posts() {
        let api = Api::new();
        assert_eq!(get(&api, "/posts/1").1["userId"], 1);
        assert_eq!(get(&api, "/posts/11").1["userId"], 2);
        assert_eq!(get(&api, "/posts/100").1["userId"], 10);
        assert_eq!(get(&api, "/photos/5000").1["albumId"], 100);
        let (_, comments) = get(&api, "/posts/7/comments");
        assert_eq!(len(&comments), 5);
        assert!(comments
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["postId"] == 7));
        assert_eq!(comments, get(&api, "/comments?postId=7").1);
        assert_eq!(len(&get(&api, "/users/3/todos").1), 20);
        assert_eq!(len(&get(&api, "/albums/2/photos").1), 50);
        assert_eq!(len(&get(&api, "/comments?postId=1&postId=2").1), 10);
        assert_eq!(
            len(&get(&api, "/todos?userId=1&completed=true").1)
                + len(&get(&api, "/todos?userId=1&completed=false").1),
            20
        );
        assert_eq!(len(&get(&api, "/comments?postId=999").1), 0);
        assert_eq!(len(&get(&api, "/posts?_limit=3").1), 100);
    }

    #[test]
    fn unknown_ids_and_paths_are_404_with_an_empty_object() {
        let api = Api::new();
        for path in [
            "/posts/0",
            "/posts/101",
            "/posts/abc",
            "/users/11",
            "/nope",
            "/posts/1/nope",
            "/a/b/c/d",
        ] {
            assert_eq!(
                get(&api, path),
                (StatusCode::NOT_FOUND, json!({})),
                "{path}"
            );
        }
    }

    #[test]
    fn writes_are_echoed_and_not_kept() {
        let api = Api::new();
        let (status, created) = send(
            &api,
            Method::POST,
            "/posts",
            r#"{"title":"t","body":"b","userId":1}"#,
        );
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            created,
            json!({"title": "t", "body": "b", "userId": 1, "id": 101})
        );
        let (status, patched) = send(&api, Method::PATCH, "/posts/1", r#"{"title":"new"}"#);
        assert_eq!(
            (status, &patched["title"], &patched["userId"]),
            (StatusCode::OK, &json!("new"), &json!(1))
        );
        let (_, put) = send(&api, Method::PUT, "/posts/1", r#"{"title":"only"}"#);
        assert_eq!(put, json!({"title": "only", "id": 1}));
        assert_eq!(
            send(&api, Method::DELETE, "/posts/1", ""),
            (StatusCode::OK, json!({}))
        );
        assert_ne!(get(&api, "/posts/1").1["title"], "new");
        assert_eq!(
            send(&api, Method::POST, "/posts", "{nope").0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            send(&api, Method::POST, "/posts", "[1]").0,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn the_data_is_the_same_every_time() {
        let (a, b) = (Api::new(), Api::new());
        assert_eq!(get(&a, "/users").1, get(&b, "/users").1);
        assert_eq!(get(&a, "/photos/4321").1, get(&b, "/photos/4321").1);
        let (_, post) = get(&a, "/posts/1");
        let title = post["title"].as_str().unwrap();
        assert!(
            title.split(' ').count() >= 3 && title.split(' ').all(|w| LOREM.contains(&w)),
            "{title}"
        );
        assert_eq!(post["body"].as_str().unwrap().lines().count(), 4);
        let names: std::collections::HashSet<_> = get(&a, "/users")
            .1
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names.len(), 10);
    }

    #[test]
    fn queries_are_percent_decoded() {
        assert_eq!(
            parse_query("a=1&b=x%20y+z&c"),
            [
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), "".into())
            ]
        );
        let values: Vec<String> = parse_query("a=100%&b=%4&c=%zz%41&d=%41")
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(values, ["100%", "%4", "%zzA", "A"]);
    }
}
