import type { Config } from "tailwindcss";

/** Loaded by app/globals.css through `@config`; Tailwind 4 finds the class names by itself. */
export default {
  content: ["./app/**/*.{ts,tsx}", "./components/**/*.{ts,tsx}"],
  theme: {
    extend: {
      colors: {
        // Opaque table row shades (a sticky cell takes the row's background, so no transparency).
        stripe: "#0f0f12",
        "row-hover": "#17191f",
      },
      fontFamily: {
        sans: [
          "Inter",
          "ui-sans-serif",
          "system-ui",
          "-apple-system",
          "Segoe UI",
          "Roboto",
          "Liberation Sans",
          "sans-serif",
        ],
        mono: [
          "JetBrains Mono",
          "ui-monospace",
          "SFMono-Regular",
          "Menlo",
          "Consolas",
          "DejaVu Sans Mono",
          "monospace",
        ],
      },
    },
  },
} satisfies Config;
