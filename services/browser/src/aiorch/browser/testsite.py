"""A small local website for the tests and `make bench`: a product list with pagination,
product pages with reviews, a login form, a contact form, a table, content rendered by
JavaScript after a delay, a page that never finishes loading, a huge page and a 404, and a
page of widgets (tabs, a collapsed section, a menu, checkboxes, radios, a dropdown, a slider,
a dialog, an alert) that logs what was done to it."""

import html
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PRODUCTS = [
    (1, "Trail Shoe", ["Great grip and very comfortable, I love them.", "Fell apart after two weeks, terrible quality.",
                       "Excellent value, would buy again."]),
    (2, "Rain Jacket", ["Keeps me dry, fantastic.", "Zip broke, awful experience."]),
    (3, "Camp Stove", ["Boils water fast, really happy with it."]),
    (4, "Head Lamp", ["Bright and light, wonderful."]),
    (5, "Water Filter", ["Did not work at all, disappointed."]),
    (6, "Sleeping Bag", ["Warm and cosy, perfect."]),
]
PER_PAGE = 2
WIDGETS = """
<h1>Order form</h1>
<p id=intro>The quick brown fox, jumps over the lazy dog.</p>
<div id=tabs><ul><li><a href="#tab-a">Tab #1</a></li><li><a href="#tab-b">Tab #2</a></li></ul>
 <div id=tab-a><p>Nothing here.</p></div><div id=tab-b hidden><p>Go to <span class=go>Deep link</span> now.</p></div></div>
<section><button id=toggle>Details</button><div id=details hidden><button>Reveal me</button></div></section>
<ul class=menu><li><span>Produce</span><ul class=sub><li><span>Citrus</span></li></ul></li></ul>
<fieldset><legend>Fruit</legend><label><input type=checkbox name=f value=Apples>Apples</label>
 <label><input type=checkbox name=f value=Pears>Pears</label><label><input type=checkbox name=f value=Plums>Plums</label></fieldset>
<fieldset><legend>Size</legend><label><input type=radio name=s value=Small>Small</label>
 <label><input type=radio name=s value=Medium>Medium</label><label><input type=radio name=s value=Large>Large</label></fieldset>
<label for=color>Color</label><select id=color><option>Red</option><option>Green</option><option>Blue</option></select>
<p><label for=first>First name</label><input id=first> <label for=last>Last name</label><input id=last></p>
<label for=volume>Volume</label><input id=volume type=range min=0 max=10 value=2>
<table><tr><th>Language</th><td>Esperanto</td></tr><tr><th>Year</th><td>1887</td></tr></table>
<button class=save>Save</button> <button class=save>Save</button>
<button id=alert>Alert me</button> <button id=send>Send</button>
<div id=dialog role=dialog hidden><p>Really?</p><button>OK</button><button aria-label=Close>&times;</button></div>
<pre id=log></pre>
<script>
const log = (line) => { document.getElementById('log').textContent += line + '\\n'; };
document.querySelectorAll('#tabs a').forEach((a) => a.onclick = (e) => { e.preventDefault();
  document.querySelectorAll('#tabs > div').forEach((d) => d.hidden = '#' + d.id !== a.getAttribute('href')); });
document.querySelector('.go').onclick = () => log('clicked Deep link');
document.getElementById('toggle').onclick = () => { const d = document.getElementById('details'); d.hidden = !d.hidden; };
document.querySelector('#details button').onclick = () => log('revealed');
document.querySelectorAll('.save').forEach((b, i) => b.onclick = () => log('saved ' + i));
document.querySelector('.sub').style.display = 'none';
document.querySelector('.menu > li').onmouseenter = () => document.querySelector('.sub').style.display = 'block';
document.querySelector('.sub span').onclick = () => log('menu Citrus');
document.getElementById('alert').onclick = () => { alert('Hello from the page'); log('alerted'); };
document.getElementById('send').onclick = () => {
  const checked = [...document.querySelectorAll('input:checked')].map((i) => i.value).join(' ');
  log('sent: ' + [document.getElementById('first').value, document.getElementById('last').value, checked,
    document.getElementById('color').value, document.getElementById('volume').value].join(' | '));
  document.getElementById('dialog').hidden = false; };
document.querySelectorAll('#dialog button').forEach((b) => b.onclick = () => {
  log('dialog ' + (b.getAttribute('aria-label') || b.textContent)); document.getElementById('dialog').hidden = true; });
</script>
"""
FEED_PAGES = 20


def page(title: str, body: str, head: str = "") -> bytes:
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>{head}</head>"
            f"<body><nav><a href='/products'>Products</a> <a href='/login'>Login</a> <a href='/contact'>Contact</a>"
            f"</nav><main>{body}</main></body></html>").encode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _send(self, body: bytes, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = parts.path
        if path == "/products":
            number = int(query.get("page", ["1"])[0])
            chunk = PRODUCTS[(number - 1) * PER_PAGE: number * PER_PAGE]
            items = "".join(f"<li class=product><a href='/product/{pid}'>{name}</a></li>" for pid, name, _ in chunk)
            last = (len(PRODUCTS) + PER_PAGE - 1) // PER_PAGE
            nav = f"<a href='/products?page={number + 1}'>Next</a>" if number < last else ""
            self._send(page(f"Products, page {number}", f"<h1>Products</h1><ul>{items}</ul>{nav}"))
        elif path.startswith("/product/"):
            pid = int(path.rsplit("/", 1)[1])
            match = next((p for p in PRODUCTS if p[0] == pid), None)
            if match is None:
                self._send(page("Not found", "<h1>Not found</h1>"), 404)
                return
            reviews = "".join(f"<li class=review>{html.escape(text)}</li>" for text in match[2])
            self._send(page(match[1], f"<h1>{match[1]}</h1><p>A fine product.</p><h2>Reviews</h2><ul>{reviews}</ul>"))
        elif path == "/login":
            self._send(page("Login", "<h1>Login</h1><form method=post action=/login>"
                                     "<label for=u>Username</label><input id=u name=username>"
                                     "<label for=p>Password</label><input id=p name=password type=password>"
                                     "<button type=submit>Log in</button></form>"))
        elif path == "/contact":
            self._send(page("Contact", "<h1>Contact us</h1><form method=post action=/contact>"
                                       "<input name=name placeholder='Your name'>"
                                       "<input name=email placeholder='Email'>"
                                       "<textarea name=message placeholder='Message'></textarea>"
                                       "<button>Send</button></form>"))
        elif path == "/widgets":
            self._send(page("Widgets", WIDGETS))
        elif path == "/table":
            rows = "".join(f"<tr><td>{name}</td><td>{pid * 10}.00</td><td>{len(r)}</td></tr>" for pid, name, r in PRODUCTS)
            self._send(page("Price list", "<h1>Price list</h1><table><caption>Prices</caption>"
                                          f"<tr><th>Product</th><th>Price</th><th>Reviews</th></tr>{rows}</table>"))
        elif path == "/feed":
            number = int(query.get("page", ["1"])[0])
            posts = "".join(f"<li>Post {(number - 1) * 5 + k}: notes from the trail</li>" for k in range(1, 6))
            nav = f"<a rel=next href='/feed?page={number + 1}'>Next</a>" if number < FEED_PAGES else ""
            self._send(page(f"Feed, page {number}", f"<h1>Feed</h1><ul>{posts}</ul>{nav}"))
        elif path == "/delayed":
            script = ("<script>setTimeout(() => { const p = document.createElement('p'); "
                      "p.textContent = 'Loaded by JavaScript'; document.querySelector('main').appendChild(p); }, 800)"
                      "</script>")
            self._send(page("Delayed", "<h1>Delayed</h1>" + script))
        elif path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>Loading")
            time.sleep(30)  # never finishes within a test's time limit
        elif path == "/huge":
            paragraph = "<p>" + "lorem ipsum dolor sit amet " * 40 + "</p>"
            self._send(page("Huge", "<h1>Huge</h1>" + paragraph * 5000))
        elif path == "/redirect-to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        else:
            self._send(page("Not found", "<h1>Not found</h1>"), 404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path == "/login":
            ok = form.get("username") == "alice" and form.get("password") == "wonderland"
            self._send(page("Welcome" if ok else "Login failed",
                            "<h1>Welcome, alice</h1>" if ok else "<h1>Invalid username or password</h1>"))
        elif self.path == "/contact":
            self._send(page("Thanks", f"<h1>Thanks, {html.escape(form.get('name', ''))}</h1>"
                                      f"<p>We will answer {html.escape(form.get('email', ''))} soon.</p>"))
        else:
            self._send(page("Not found", "<h1>Not found</h1>"), 404)


class DemoSite:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> "DemoSite":
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
