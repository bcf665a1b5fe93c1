/**
 * The stylesheet of /docs, served from /docs/style.css: the page's CSP allows styles from
 * Gatehouse's own origin only. Kept here as a string because tsc copies no .css into dist/.
 */
export const DOCS_STYLE = `body{font:1rem/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff}
header,nav,main{max-width:60rem;margin:0 auto;padding:0 1.5rem}
h1{font-size:1.6rem}h2{font-size:1.35rem;border-bottom:1px solid #ddd;padding-bottom:.25rem;margin-top:2.5rem}
h3{font-size:1.1rem}h4{font-size:1rem;margin:1rem 0 .25rem}h5{font-size:1rem;font-weight:normal;margin:.5rem 0}
nav ul{list-style:none;padding:0}nav li{margin:.15rem 0}
article{border-top:1px solid #eee;padding-top:.5rem;margin-top:1.5rem}
.method{display:inline-block;min-width:4.5rem;font:600 .85rem ui-monospace,monospace;color:#0b57d0}
.summary{font-weight:600}.auth{color:#444}
.status{display:inline-block;min-width:2.5rem;font:600 .9rem ui-monospace,monospace}
.s2{color:#146c2e}.s3{color:#555}.s4{color:#8a4b00}.s5{color:#b3261e}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem}
pre{background:#f6f8fa;padding:.75rem;overflow:auto;max-height:30rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;border-bottom:1px solid #eee;padding:.3rem .5rem}
td p{margin:0}summary{cursor:pointer;color:#0b57d0}.media,.response>p{margin-left:1rem}
a{color:#0b57d0}a:focus-visible,summary:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
`;
