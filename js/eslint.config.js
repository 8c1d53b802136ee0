// @ts-check
// Lint for the front end: typescript-eslint's strict type-aware rules, and a cap on function length so
// that long functions get split along the stages they go through.
// typescript-eslint needs TypeScript's JavaScript API, which TypeScript 7 does not ship: package.json
// therefore aliases `typescript` to @typescript/typescript6 (used only here) and installs TypeScript 7 as
// @typescript/native, whose `tsc` is the one `npm run typecheck` runs.
import eslint from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  eslint.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "max-lines-per-function": ["error", { max: 60, skipBlankLines: true, skipComments: true }],
      complexity: ["error", 20],
      // `const { dropped, ...rest } = x` is how a key is left out of a copy.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
      // Callbacks like `() => el.remove()` are the house style; a block body would add noise, not clarity.
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      // Durations, counts and ids are numbers; they read correctly in messages as they are.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
    },
  },
  {
    // A test file's describe() callback holds all its cases: its length says how many there are.
    files: ["test/**/*.ts"],
    // A missing element or call fails the test where `!` asserts it, which is what a test wants.
    rules: { "max-lines-per-function": "off", "@typescript-eslint/no-non-null-assertion": "off" },
  },
  {
    // The build and lint configs run in Node and are plain JavaScript, outside the TypeScript project.
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);
