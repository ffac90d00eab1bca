//! `#[ferrio::main]` and `#[ferrio::test]`: run an `async fn` on a new ferrio
//! runtime, as `ferrio::run` does, re-exported by the `ferrio` facade.
//!
//! Not here: the runtime itself. The generated code only calls
//! `ferrio::__private::run_with`, so everything a macro can do, a program
//! can write by hand with `ferrio::run` or `ferrio::Runtime::builder()`.

#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, ReturnType, Token};

/// Runs `async fn main` on a new ferrio runtime (like wrapping its body in
/// `ferrio::run`): tasks still pending when it returns are cancelled.
///
/// Options, all optional, forwarded to `ferrio::Builder`:
/// `workers = N` (0: one per core; without it, one worker unless
/// `FERRIO_WORKERS` says otherwise), `event_interval = N`,
/// `max_blocking_threads = N`.
///
/// ```
/// #[ferrio::main(workers = 0)]
/// async fn main() {
///     // Send tasks spread over every core; main itself runs on this thread.
///     let squares: Vec<u64> = ferrio::gather((0..8u64).map(|i| ferrio::spawn(async move { i * i })))
///         .await
///         .into_iter()
///         .map(Result::unwrap)
///         .collect();
///     assert_eq!(squares.iter().sum::<u64>(), 140);
/// }
/// ```
///
/// ```
/// #[ferrio::main(event_interval = 32)]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let answer = ferrio::spawn(async { 6 * 7 }).await?;
///     assert_eq!(answer, 42);
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_or_report(args, item, Kind::Main)
}

/// Runs an `async fn` test on a new ferrio runtime of its own.
///
/// Options: `timeout_ms = N` fails the test with a panic that says so if it
/// has not finished after `N` milliseconds (its future is then dropped);
/// `workers = N`, `event_interval = N` and `max_blocking_threads = N` go to
/// `ferrio::Builder`; `start_paused = true` starts the runtime with its clock
/// paused (`ferrio::Builder::start_paused`, tokio's option of that name): a
/// one-hour sleep then finishes at once (docs/testing.md). `timeout_ms` is
/// wall-clock time, paused clock or not, and applies to each run.
///
/// `seed = n` runs the test on a seeded scheduler (`ferrio::Builder::seed`):
/// ready tasks are polled, and wakes that arrive together are delivered, in
/// an order drawn from a generator seeded with `n`, the same every run (a
/// replay). `shuffle = N` runs the body under the seeds `1..=N`, each on a
/// runtime of its own, and fails at the first seed that fails, naming it,
/// so that `seed = n` can keep it as a regression test. A test that fails
/// under a seed (also one from `FERRIO_SEED=n` in the environment) prints
/// `ferrio: test failed with FERRIO_SEED=n`. See docs/testing.md.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
///
/// // Passes under every order: each task's update is one step.
/// #[ferrio::test(shuffle = 50, timeout_ms = 10000)]
/// async fn counts_every_increment() {
///     let count = Rc::new(Cell::new(0));
///     let tasks: Vec<_> = (0..4)
///         .map(|_| {
///             let count = count.clone();
///             ferrio::spawn_local(async move {
///                 ferrio::yield_now().await;
///                 count.set(count.get() + 1);
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(count.get(), 4);
/// }
///
/// // The replay of one order.
/// #[ferrio::test(seed = 17, timeout_ms = 5000)]
/// async fn under_seed_17() {
///     assert_eq!(ferrio::spawn(async { 1 }).await.unwrap(), 1);
/// }
/// # fn main() {}
/// ```
///
/// ```
/// #[ferrio::test(timeout_ms = 5000)]
/// async fn sleeps_briefly() {
///     ferrio::time::sleep(std::time::Duration::from_millis(1)).await;
/// }
///
/// #[ferrio::test(start_paused = true, timeout_ms = 5000)]
/// async fn sleeps_an_hour_in_no_time() {
///     let start = ferrio::time::Instant::now();
///     ferrio::time::sleep(std::time::Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), std::time::Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
///
/// An unknown option is a compile error that lists the known ones (there is
/// no `debug` option: the runtime has no debug mode to switch on):
///
/// ```compile_fail
/// #[ferrio::test(debug = 1)]
/// async fn with_a_typo() {}
/// # fn main() {}
/// ```
///
/// `seed` replays one seed and `shuffle` tries many: together they are a
/// compile error.
///
/// ```compile_fail
/// #[ferrio::test(seed = 3, shuffle = 10)]
/// async fn both() {}
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_or_report(args, item, Kind::Test)
}

/// The expansion, or the error followed by the item as it was written, so
/// that the error is the only one (no "`main` function not found" after it).
fn expand_or_report(args: TokenStream, item: TokenStream, kind: Kind) -> TokenStream {
    let original = TokenStream2::from(item.clone());
    match expand(args.into(), item.into(), kind) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let error = e.to_compile_error();
            // Without `async`, an `async fn main` raises no second error.
            let item = match syn::parse2::<ItemFn>(original.clone()) {
                Ok(mut function) => {
                    function.sig.asyncness = None;
                    quote! { #function }
                }
                Err(_) => original,
            };
            quote! { #error #item }.into()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "ferrio::main",
            Kind::Test => "ferrio::test",
        }
    }
}

/// The attribute's options, checked.
#[derive(Default)]
struct Options {
    event_interval: Option<usize>,
    max_blocking_threads: Option<usize>,
    timeout_ms: Option<u64>,
    workers: Option<usize>,
    start_paused: Option<bool>,
    seed: Option<u64>,
    shuffle: Option<u64>,
}

fn parse_options(args: TokenStream2, kind: Kind) -> syn::Result<Options> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut options = Options::default();
    for meta in metas {
        let Meta::NameValue(nv) = &meta else {
            return Err(syn::Error::new(
                meta.span(),
                format!("#[{}] options are `name = value`", kind.name()),
            ));
        };
        let name = nv
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        if name == "start_paused" && kind == Kind::Test {
            match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Bool(b), ..
                }) => options.start_paused = Some(b.value),
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "`start_paused` takes `true` or `false`",
                    ))
                }
            }
            continue;
        }
        let value = match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Int(int), ..
            }) => int,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    format!("`{name}` takes an integer literal"),
                ))
            }
        };
        match name.as_str() {
            "event_interval" => options.event_interval = Some(value.base10_parse()?),
            "max_blocking_threads" => options.max_blocking_threads = Some(value.base10_parse()?),
            "workers" => options.workers = Some(value.base10_parse()?),
            "timeout_ms" if kind == Kind::Test => options.timeout_ms = Some(value.base10_parse()?),
            "seed" if kind == Kind::Test => options.seed = Some(value.base10_parse()?),
            "shuffle" if kind == Kind::Test => {
                let tries: u64 = value.base10_parse()?;
                if tries == 0 {
                    return Err(syn::Error::new(
                        value.span(),
                        "`shuffle` takes the number of seeds to try, at least 1",
                    ));
                }
                options.shuffle = Some(tries);
            }
            _ => {
                let known = match kind {
                    Kind::Main => "workers, event_interval, max_blocking_threads",
                    Kind::Test => {
                        "timeout_ms, start_paused, seed, shuffle, workers, event_interval, max_blocking_threads"
                    }
                };
                return Err(syn::Error::new(
                    nv.path.span(),
                    format!(
                        "unknown #[{}] option `{name}`; the options are {known}",
                        kind.name()
                    ),
                ));
            }
        }
    }
    if let (Some(_), Some(_)) = (options.seed, options.shuffle) {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`seed` and `shuffle` do not go together: `shuffle = N` tries the seeds 1..=N, `seed = n` replays one",
        ));
    }
    Ok(options)
}

fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> syn::Result<TokenStream2> {
    let options = parse_options(args, kind)?;
    let mut function: ItemFn = syn::parse2(item)?;
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!("#[{}] goes on an `async fn`", kind.name()),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("#[{}] functions take no arguments", kind.name()),
        ));
    }
    if kind == Kind::Main && sig.ident != "main" {
        return Err(syn::Error::new(
            sig.ident.span(),
            "#[ferrio::main] goes on `async fn main`",
        ));
    }
    function.sig.asyncness = None;

    let output = match &function.sig.output {
        ReturnType::Default => quote! { () },
        ReturnType::Type(_, ty) => quote! { #ty },
    };
    let mut builder = quote! { ::ferrio::Builder::new() };
    if let Some(n) = options.event_interval {
        builder = quote! { #builder.event_interval(#n) };
    }
    if let Some(n) = options.workers {
        builder = quote! { #builder.workers(#n) };
    }
    if let Some(n) = options.max_blocking_threads {
        builder = quote! { #builder.max_blocking_threads(#n) };
    }
    if let Some(paused) = options.start_paused {
        builder = quote! { #builder.start_paused(#paused) };
    }
    if let Some(seed) = options.seed {
        builder = quote! { #builder.seed(#seed) };
    }
    let timeout = match options.timeout_ms {
        Some(ms) => {
            quote! { ::core::option::Option::Some(::core::time::Duration::from_millis(#ms)) }
        }
        None => quote! { ::core::option::Option::None },
    };
    let name = function.sig.ident.to_string();
    let body = &function.block;
    let span = body.span();
    let new_body = match options.shuffle {
        None => quote_spanned! {span=>
            {
                // The expected output type lets `?` in the body infer its error type.
                let body = ::ferrio::__private::with_output::<#output, _>(async move #body);
                ::ferrio::__private::run_with(#builder, #timeout, #name, body)
            }
        },
        // A fresh body for each seed.
        Some(tries) => quote_spanned! {span=>
            {
                ::ferrio::__private::shuffle_with(#builder, #timeout, #name, #tries, || {
                    ::ferrio::__private::with_output::<#output, _>(async move #body)
                })
            }
        },
    };
    function.block = syn::parse2(new_body)?;
    let test_attr = match kind {
        Kind::Test => quote! { #[::core::prelude::v1::test] },
        Kind::Main => TokenStream2::new(),
    };
    Ok(quote! {
        #test_attr
        #function
    })
}
