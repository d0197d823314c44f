// Module resolution hooks for the SDK's tests: see register.js.

const fake = new URL("./fake-host.js", import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier.startsWith("consfig:module/")) {
    return { url: fake, shortCircuit: true };
  }
  return next(specifier, context);
}
