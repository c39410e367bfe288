//! The `#[cached]` attribute macro of [pottery](https://docs.rs/pottery): memoizes a function in
//! a Redis-backed `pottery::RedisCache` (`pottery::aio::RedisCache` for an `async fn`).
//!
//! Use it through the `pottery` crate as `#[pottery::cached(...)]`; its documentation, with
//! examples, is on the re-export `pottery::cached`. The generated code names `::pottery`, so the
//! crate that uses the macro must depend on `pottery` under that name.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, Attribute, Expr, FnArg, GenericParam, Ident, ItemFn, LitInt, LitStr, Pat,
    ReturnType, Safety, Type,
};

/// (Implemented in the `pottery-macros` crate, and documented with examples on its re-export
/// `pottery::cached`.)
#[proc_macro_attribute]
pub fn cached(attribute: TokenStream, item: TokenStream) -> TokenStream {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| options.parse(meta));
    parse_macro_input!(attribute with parser);
    let function = parse_macro_input!(item as ItemFn);
    expand(options, function)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Where the cache comes from.
enum Source {
    /// `cache = EXPR`: the user's own cache, `&EXPR` derefs to a `&'static RedisCache` (of the
    /// async face for an `async fn`).
    Given(Expr),
    /// `url = EXPR, key = EXPR[, ttl_secs = N]`: a cache the macro opens on the first call.
    Opened {
        url: Expr,
        key: Expr,
        ttl_secs: Option<u64>,
    },
}

/// The macro's arguments as written, checked by [`Options::source`].
#[derive(Default)]
struct Options {
    cache: Option<Expr>,
    url: Option<Expr>,
    key: Option<Expr>,
    ttl_secs: Option<(u64, Span)>,
    name: Option<LitStr>,
}

const USAGE: &str = "expected `cache = <static RedisCache>` or \
                     `url = \"redis://...\", key = \"...\"` (with optional `ttl_secs = N`), \
                     and optionally `name = \"function id\"`";

/// Parses `option = value` into `slot`, refusing an option given twice.
fn set_once<T: syn::parse::Parse>(
    slot: &mut Option<T>,
    meta: &syn::meta::ParseNestedMeta<'_>,
    duplicate: impl FnOnce() -> syn::Error,
) -> syn::Result<()> {
    if slot.is_some() {
        return Err(duplicate());
    }
    *slot = Some(meta.value()?.parse()?);
    Ok(())
}

impl Options {
    fn parse(&mut self, meta: syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
        let Some(option) = meta.path.get_ident().map(Ident::to_string) else {
            return Err(meta.error(USAGE));
        };
        let duplicate = || meta.error(format_args!("`{option}` is given twice"));
        match option.as_str() {
            "cache" => set_once(&mut self.cache, &meta, duplicate)?,
            "url" => set_once(&mut self.url, &meta, duplicate)?,
            "key" => set_once(&mut self.key, &meta, duplicate)?,
            "ttl_secs" => {
                if self.ttl_secs.is_some() {
                    return Err(duplicate());
                }
                let seconds: LitInt = meta.value()?.parse()?;
                let value: u64 = seconds.base10_parse()?;
                if value == 0 {
                    return Err(syn::Error::new(
                        seconds.span(),
                        "`ttl_secs` must be at least 1 (leave it out for no expiry)",
                    ));
                }
                self.ttl_secs = Some((value, seconds.span()));
            }
            "name" => set_once(&mut self.name, &meta, duplicate)?,
            _ => {
                return Err(meta.error(format_args!("unknown option `{option}`: {USAGE}")));
            }
        }
        Ok(())
    }

    /// The cache source, or the error for a missing or conflicting option.
    fn source(&mut self) -> syn::Result<Source> {
        match (self.cache.take(), self.url.take(), self.key.take()) {
            (Some(cache), None, None) => match self.ttl_secs {
                None => Ok(Source::Given(cache)),
                Some((_, span)) => Err(syn::Error::new(
                    span,
                    "`ttl_secs` applies to a cache opened with `url`; \
                     give your cache its TTL with `RedisCache::with_ttl`",
                )),
            },
            (Some(cache), _, _) => Err(syn::Error::new(
                cache.span(),
                "give either `cache = ...` or `url = ..., key = ...`, not both",
            )),
            (None, Some(url), Some(key)) => Ok(Source::Opened {
                url,
                key,
                ttl_secs: self.ttl_secs.map(|(seconds, _)| seconds),
            }),
            (None, Some(url), None) => Err(syn::Error::new(
                url.span(),
                "`url` needs `key = \"...\"`: the Redis key of the cache hash",
            )),
            (None, None, Some(key)) => Err(syn::Error::new(
                key.span(),
                "`key` needs `url = \"redis://...\"`, or use `cache = ...` for a cache of your own",
            )),
            (None, None, None) => Err(syn::Error::new(Span::call_site(), USAGE)),
        }
    }
}

/// One argument of the function: the name the generated functions pass it by, and its type.
struct Argument {
    name: Ident,
    ty: Type,
}

fn expand(mut options: Options, function: ItemFn) -> syn::Result<TokenStream2> {
    let source = options.source()?;
    check_signature(&function)?;
    let arguments = arguments(&function)?;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = function;

    let function_name = &sig.ident;
    let id = options
        .name
        .unwrap_or_else(|| LitStr::new(&function_name.unraw().to_string(), function_name.span()));
    let bare_name = function_name.unraw();
    let no_cache = format_ident!("{}_no_cache", bare_name, span = function_name.span());
    let prime_cache = format_ident!("{}_prime_cache", bare_name, span = function_name.span());
    let cache_function = format_ident!("{}_cache", bare_name, span = function_name.span());

    let output = &sig.output;
    let return_span = match output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    };
    let (shared_attributes, wrapper_attributes) = split_attributes(attrs);
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    let names: Vec<&Ident> = arguments.iter().map(|argument| &argument.name).collect();
    let parameters = arguments
        .iter()
        .map(|Argument { name, ty }| quote!(#name: #ty));
    let parameters = quote!(#(#parameters),*);
    let original_inputs = &sig.inputs;

    // An `async fn` is served by the async face of the cache, and its companions are async.
    let asyncness = &sig.asyncness;
    let (cache_type, awaited) = match asyncness {
        None => (quote!(::pottery::RedisCache), quote!()),
        Some(_) => (quote!(::pottery::aio::RedisCache), quote!(.await)),
    };

    // Hygienic: a parameter the user named `cache` must not be shadowed by ours.
    let cache = Ident::new("cache", Span::mixed_site());
    let (cache_item, get_cache) = match source {
        Source::Given(expression) => {
            let body = quote_spanned!(expression.span()=> &#expression);
            let item = quote! {
                /// The [`RedisCache`](::pottery::caching::RedisCache) behind the cached
                /// function of the same name (for `stats`, `clear`, `remove`, ...).
                #(#shared_attributes)*
                #vis fn #cache_function() -> &'static #cache_type {
                    #body
                }
            };
            (item, quote!(#cache_function()))
        }
        Source::Opened { url, key, ttl_secs } => {
            let with_ttl = ttl_secs
                .map(|seconds| quote!(.with_ttl(::std::time::Duration::from_secs(#seconds))));
            let opened = Ident::new("OPENED", Span::mixed_site());
            let item = quote! {
                /// The [`RedisCache`](::pottery::caching::RedisCache) behind the cached
                /// function of the same name (for `stats`, `clear`, `remove`, ...), opened on
                /// the first call; an error if the URL is not a valid Redis URL.
                #(#shared_attributes)*
                #vis fn #cache_function() -> ::pottery::Result<&'static #cache_type> {
                    static #opened: ::std::sync::OnceLock<#cache_type> =
                        ::std::sync::OnceLock::new();
                    if let ::std::option::Option::Some(#cache) = #opened.get() {
                        return ::std::result::Result::Ok(#cache);
                    }
                    // Opening connects nothing; a racing caller's handle is simply dropped.
                    let #cache = #cache_type::open(#url, #key)? #with_ttl;
                    ::std::result::Result::Ok(#opened.get_or_init(|| #cache))
                }
            };
            // `?` converts into the function's error type; spanned on the return type, where a
            // missing `From<pottery::Error>` is to be fixed.
            let get = quote_spanned!(return_span=> #cache_function()?);
            (item, get)
        }
    };

    // The arguments, moved into the body's call only on a miss.
    let arguments_and_call = quote!((#(#names,)*), |(#(#names,)*)| #no_cache(#(#names),*));
    let get_or_call = quote_spanned! {return_span=>
        #cache_type::try_get_or_call(#cache, #id, #arguments_and_call) #awaited
    };
    let call_and_store = quote_spanned! {return_span=>
        #cache_type::try_call_and_store(#cache, #id, #arguments_and_call) #awaited
    };
    let no_cache_doc =
        format!("[`{bare_name}`] without the cache: runs the body, reads and stores nothing.");
    let prime_doc = format!(
        "Runs [`{bare_name}`]'s body without reading the cache and stores its result, replacing \
         any stored one; an error is returned and nothing is stored."
    );

    Ok(quote! {
        #(#shared_attributes)*
        #(#wrapper_attributes)*
        #vis #asyncness fn #function_name #generics (#parameters) #output #where_clause {
            let #cache = #get_cache;
            #get_or_call
        }

        #[doc = #no_cache_doc]
        #(#shared_attributes)*
        #vis #asyncness fn #no_cache #generics (#original_inputs) #output #where_clause #block

        #[doc = #prime_doc]
        #(#shared_attributes)*
        #vis #asyncness fn #prime_cache #generics (#parameters) #output #where_clause {
            let #cache = #get_cache;
            #call_and_store
        }

        #cache_item
    })
}

/// Refuses what the generated code cannot serve, with the error on the offending tokens.
fn check_signature(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new(
            token.span(),
            "#[pottery::cached] cannot make a `const fn`: the cache talks to Redis at run time",
        ));
    }
    if let Safety::Unsafe(token) = &sig.safety {
        return Err(syn::Error::new(
            token.span(),
            "#[pottery::cached] does not support `unsafe fn`: \
             cache a safe function that wraps the unsafe call",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new(
            abi.span(),
            "#[pottery::cached] does not support `extern` functions",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "#[pottery::cached] does not support variadic functions",
        ));
    }
    for parameter in &sig.generics.params {
        if !matches!(parameter, GenericParam::Lifetime(_)) {
            return Err(generic_error(parameter.span()));
        }
    }
    match &sig.output {
        ReturnType::Default => Err(syn::Error::new(
            sig.ident.span(),
            "a #[pottery::cached] function must return `pottery::Result<T>` or `Result<T, E>` \
             with `E: From<pottery::Error>`, so that Redis errors can surface",
        )),
        ReturnType::Type(_, ty) if !is_result(ty) => Err(syn::Error::new(
            ty.span(),
            "a #[pottery::cached] function must return `pottery::Result<T>` or `Result<T, E>` \
             with `E: From<pottery::Error>`, so that Redis errors can surface; \
             errors are returned and never stored",
        )),
        ReturnType::Type(..) => Ok(()),
    }
}

fn generic_error(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "#[pottery::cached] does not support generic functions: the cache field is the JSON of \
         the argument values, which does not record their types, so every instance would share \
         its entries; cache one non-generic function per type",
    )
}

/// Whether `ty` is spelled as a `Result<..>` (any path ending in `Result`, such as
/// `pottery::Result<T>`, `std::result::Result<T, E>` or `anyhow::Result<T>`).
fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Result" && !segment.arguments.is_empty()),
        Type::Paren(inner) => is_result(&inner.elem),
        Type::Group(inner) => is_result(&inner.elem),
        _ => false,
    }
}

/// The arguments, named as written (`mut` dropped) or `argument_<n>` for other patterns.
fn arguments(function: &ItemFn) -> syn::Result<Vec<Argument>> {
    function
        .sig
        .inputs
        .iter()
        .enumerate()
        .map(|(position, input)| match input {
            FnArg::Receiver(receiver) => Err(syn::Error::new(
                receiver.span(),
                "#[pottery::cached] does not support methods: the receiver would not be part \
                 of the cache field; cache a free function that takes what the result depends on",
            )),
            FnArg::Typed(typed) => {
                if is_impl_trait(&typed.ty) {
                    return Err(generic_error(typed.ty.span()));
                }
                let name = match &*typed.pat {
                    Pat::Ident(pattern) if pattern.subpat.is_none() => pattern.ident.clone(),
                    other => format_ident!("argument_{}", position, span = other.span()),
                };
                Ok(Argument {
                    name,
                    ty: (*typed.ty).clone(),
                })
            }
        })
        .collect()
}

/// Whether `ty` is an argument-position `impl Trait`, also behind references.
fn is_impl_trait(ty: &Type) -> bool {
    match ty {
        Type::ImplTrait(_) => true,
        Type::Reference(reference) => is_impl_trait(&reference.elem),
        Type::Paren(inner) => is_impl_trait(&inner.elem),
        Type::Group(inner) => is_impl_trait(&inner.elem),
        _ => false,
    }
}

/// Splits the function's attributes into those every generated function needs (conditional
/// compilation and lint levels) and those that belong to the cached function only (its
/// documentation, `#[inline]`, ...).
fn split_attributes(attributes: Vec<Attribute>) -> (Vec<Attribute>, Vec<Attribute>) {
    const SHARED: &[&str] = &[
        "cfg", "cfg_attr", "allow", "expect", "warn", "deny", "forbid",
    ];
    attributes.into_iter().partition(|attribute| {
        attribute
            .path()
            .get_ident()
            .is_some_and(|name| SHARED.iter().any(|shared| name == shared))
    })
}

#[cfg(test)]
mod tests;
