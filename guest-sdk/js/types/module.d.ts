// world consfig:module/module@0.5.0
export type * as ConsfigModuleForms050 from './interfaces/consfig-module-forms.js'; // import consfig:module/forms@0.5.0
export type * as ConsfigModuleHost050 from './interfaces/consfig-module-host.js'; // import consfig:module/host@0.5.0
export type * as ConsfigModuleTypes050 from './interfaces/consfig-module-types.js'; // import consfig:module/types@0.5.0
export * as properties from './interfaces/consfig-module-properties.js'; // export consfig:module/properties@0.5.0
