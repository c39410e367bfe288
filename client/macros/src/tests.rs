//! Expansions and refusals of `#[cached]`, checked on tokens.

use super::*;
use syn::parse::Parser;

/// The expansion of `#[cached(<attribute>)] <item>`, or the compile error's message.
fn expand_tokens(attribute: TokenStream2, item: TokenStream2) -> Result<String, String> {
    let mut options = Options::default();
    syn::meta::parser(|meta| options.parse(meta))
        .parse2(attribute)
        .map_err(|error| error.to_string())?;
    let function: ItemFn = syn::parse2(item).map_err(|error| error.to_string())?;
    expand(options, function)
        .map(|tokens| tokens.to_string())
        .map_err(|error| error.to_string())
}

fn refusal(attribute: TokenStream2, item: TokenStream2) -> String {
    expand_tokens(attribute, item).expect_err("the macro refuses this")
}

#[test]
fn expands_the_function_and_its_companions() {
    let expanded = expand_tokens(
        quote!(url = "redis://127.0.0.1:6379/", key = "k", ttl_secs = 5),
        quote!(
            /// Doubles.
            #[allow(dead_code)]
            pub fn double(mut n: u64, _: &str) -> pottery::Result<u64> {
                n *= 2;
                Ok(n)
            }
        ),
    )
    .unwrap();
    for expected in [
        "pub fn double (n : u64 , argument_1 : & str)",
        "pub fn double_no_cache (mut n : u64 , _ : & str)",
        "pub fn double_prime_cache (n : u64 , argument_1 : & str)",
        "pub fn double_cache () -> :: pottery :: Result < & 'static :: pottery :: RedisCache >",
        "try_get_or_call (cache , \"double\" , (n , argument_1 ,)",
        "try_call_and_store (cache , \"double\"",
        "with_ttl (:: std :: time :: Duration :: from_secs (5u64))",
        "# [doc = r\" Doubles.\"]",
    ] {
        assert!(
            expanded.contains(expected),
            "{expected}\nnot in\n{expanded}"
        );
    }
    // Lint levels reach every generated function, documentation only the cached one.
    assert_eq!(expanded.matches("# [allow (dead_code)]").count(), 4);
    assert_eq!(expanded.matches("Doubles.").count(), 1);
}

#[test]
fn name_overrides_the_function_id_and_raw_names_lose_their_prefix() {
    let expanded = expand_tokens(
        quote!(cache = CACHE, name = "v2"),
        quote!(
            fn r#type() -> Result<u8, MyError> {
                Ok(1)
            }
        ),
    )
    .unwrap();
    assert!(
        expanded.contains("try_get_or_call (cache , \"v2\" , ()"),
        "{expanded}"
    );
    assert!(expanded.contains("fn type_no_cache ()"), "{expanded}");
    assert!(expanded.contains("fn type_cache () -> & 'static :: pottery :: RedisCache { & CACHE }"));
}

#[test]
fn an_async_fn_gets_async_companions_on_the_async_cache() {
    let expanded = expand_tokens(
        quote!(url = "redis://127.0.0.1:6379/", key = "k", ttl_secs = 5),
        quote!(
            pub async fn fetch<'a>(id: u64, region: &'a str) -> pottery::Result<String> {
                Ok(format!("{id}@{region}"))
            }
        ),
    )
    .unwrap();
    for expected in [
        "pub async fn fetch < 'a > (id : u64 , region : & 'a str)",
        "pub async fn fetch_no_cache < 'a > (id : u64 , region : & 'a str)",
        "pub async fn fetch_prime_cache < 'a > (id : u64 , region : & 'a str)",
        "pub fn fetch_cache () -> :: pottery :: Result < & 'static :: pottery :: aio :: RedisCache >",
        "OnceLock < :: pottery :: aio :: RedisCache >",
        ":: pottery :: aio :: RedisCache :: open (\"redis://127.0.0.1:6379/\" , \"k\") ?",
        ":: pottery :: aio :: RedisCache :: try_get_or_call (cache , \"fetch\" , (id , region ,) , | (id , region ,) | fetch_no_cache (id , region)) . await",
        ":: pottery :: aio :: RedisCache :: try_call_and_store (cache , \"fetch\"",
    ] {
        assert!(
            expanded.contains(expected),
            "{expected}\nnot in\n{expanded}"
        );
    }
    assert!(!expanded.contains(":: pottery :: RedisCache"), "{expanded}");
    assert_eq!(expanded.matches(". await").count(), 2, "{expanded}");

    let given = expand_tokens(
        quote!(cache = CACHE),
        quote!(
            async fn load() -> Result<u8, MyError> {
                Ok(1)
            }
        ),
    )
    .unwrap();
    assert!(
        given.contains("fn load_cache () -> & 'static :: pottery :: aio :: RedisCache { & CACHE }"),
        "{given}"
    );
    assert!(given.contains("async fn load ()"), "{given}");
}

#[test]
fn a_sync_fn_stays_sync() {
    let expanded = expand_tokens(
        quote!(cache = CACHE),
        quote!(
            fn f() -> pottery::Result<u8> {
                Ok(1)
            }
        ),
    )
    .unwrap();
    assert!(!expanded.contains("async"), "{expanded}");
    assert!(!expanded.contains("await"), "{expanded}");
    assert!(!expanded.contains("aio"), "{expanded}");
}

#[test]
fn refuses_what_it_cannot_cache() {
    let ok = quote!(-> pottery::Result<u8>);
    let cases = [
        (
            quote!(const fn f() #ok { Ok(1) }),
            "cannot make a `const fn`",
        ),
        (
            quote!(unsafe fn f() #ok { Ok(1) }),
            "does not support `unsafe fn`",
        ),
        (
            quote!(extern "C" fn f() #ok { Ok(1) }),
            "does not support `extern`",
        ),
        (
            quote!(fn f<T>(t: T) #ok { Ok(1) }),
            "does not support generic functions",
        ),
        (
            quote!(fn f<const N: usize>() #ok { Ok(1) }),
            "does not support generic functions",
        ),
        (
            quote!(fn f(t: &impl Copy) #ok { Ok(1) }),
            "does not support generic functions",
        ),
        (
            quote!(fn f(&self) #ok { Ok(1) }),
            "does not support methods",
        ),
        (
            quote!(
                fn f() {}
            ),
            "must return `pottery::Result<T>`",
        ),
        (
            quote!(
                fn f() -> u8 {
                    1
                }
            ),
            "must return `pottery::Result<T>`",
        ),
        (
            quote!(
                fn f() -> Option<u8> {
                    None
                }
            ),
            "must return `pottery::Result<T>`",
        ),
    ];
    for (item, message) in cases {
        let error = refusal(quote!(cache = C), item.clone());
        assert!(error.contains(message), "{item}: {error}");
    }
    // Lifetimes are fine.
    expand_tokens(
        quote!(cache = C),
        quote!(fn f<'a>(s: &'a str) #ok { Ok(1) }),
    )
    .unwrap();
}

#[test]
fn refuses_missing_conflicting_and_unknown_options() {
    let item = quote!(
        fn f() -> pottery::Result<u8> {
            Ok(1)
        }
    );
    let cases = [
        (quote!(), "expected `cache = <static RedisCache>`"),
        (quote!(key = "k"), "`key` needs `url"),
        (quote!(url = "u"), "`url` needs `key"),
        (quote!(cache = C, url = "u", key = "k"), "not both"),
        (
            quote!(cache = C, ttl_secs = 5),
            "`ttl_secs` applies to a cache opened with `url`",
        ),
        (quote!(url = "u", key = "k", ttl_secs = 0), "at least 1"),
        (quote!(url = "u", key = "k", ttl_secs = -1), "invalid digit"),
        (quote!(cache = C, cache = D), "`cache` is given twice"),
        (quote!(cache = C, name = f), "expected string literal"),
        (quote!(cache = C, size = 10), "unknown option `size`"),
    ];
    for (attribute, message) in cases {
        let error = refusal(attribute.clone(), item.clone());
        assert!(error.contains(message), "{attribute}: {error}");
    }
}
