//! Forms and contexts as written: parsed, shown, and parsed back the same.

#![no_main]

use consfig_contract::{Context, Form};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(form) = Form::parse(text) {
        let _ = form.summary().to_string();
        let _ = form.args_json();
        assert_eq!(Form::parse(&form.to_string()).as_ref(), Ok(&form));
        assert_eq!(Form::from_value(form.to_value()).as_ref(), Ok(&form));
        assert!(consfig_contract::name::is_property_name(form.name()));
    }
    if let Ok(context) = text.parse::<Context>() {
        assert_eq!(
            context.to_string().parse::<Context>().as_ref(),
            Ok(&context)
        );
    }
});
