// The reports' shared stylesheet (report.html, the compare report, drill.html): one look for all three.

export const REPORT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.verdict{font-size:17px;background:#fff6e0;border-left:5px solid #e0a000;padding:10px 14px;margin:14px 0}
.ok{background:#eaf7ea;border-color:#2ca02c}
.banner{font-size:16px;font-weight:600;background:#fde8e8;border-left:5px solid #b00020;color:#7a0016;padding:10px 14px;margin:14px 0}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#666;font-size:12px}figure{margin:10px 0 18px}
svg{max-width:100%;height:auto;font-family:system-ui,sans-serif}
svg .t{font-size:13px;font-weight:600;fill:#222}svg .a{font-size:11px;fill:#444}svg .n{font-size:12px;fill:#888}
svg .bg{fill:#fafafa;stroke:#ccc}svg .g{stroke:#e6e6e6}svg .ax{stroke:#888}svg .gap{fill:#999;fill-opacity:.15}
svg .mk{stroke:#999;stroke-dasharray:3 3}svg .mkt{font-size:10px;fill:#777}svg .ref{stroke:#d62728;stroke-dasharray:6 3;stroke-width:1}
`;
