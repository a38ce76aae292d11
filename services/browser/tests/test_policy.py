import pytest

from aiorch.browser.policy import Refused, UrlPolicy


@pytest.mark.parametrize(
    "url, reason",
    [
        ("file:///etc/passwd", "only http and https"),
        ("chrome://settings", "only http and https"),
        ("data:text/html,<h1>x</h1>", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("http://127.0.0.1:8000/", "a loopback address"),
        ("http://localhost/", "a loopback address"),
        ("http://[::1]/", "a loopback address"),
        ("http://10.1.2.3/", "a private address"),
        ("http://192.168.0.10/", "a private address"),
        ("http://172.16.5.4/", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://169.254.10.1/", "a link-local address"),
        ("http://metadata.google.internal/", "cloud metadata"),
        ("http://0.0.0.0/", "a private address"),
        ("http://[::ffff:10.0.0.1]/", "a private address"),
    ],
)
def test_forbidden_schemes_and_addresses_are_refused_with_the_reason(url, reason):
    with pytest.raises(Refused, match=reason):
        UrlPolicy().check(url)


def test_public_addresses_pass_and_the_allowlist_opens_a_local_site():
    UrlPolicy().check("https://93.184.216.34/page")
    UrlPolicy(frozenset({"127.0.0.1:8080"})).check("http://127.0.0.1:8080/products")
    with pytest.raises(Refused):
        UrlPolicy(frozenset({"127.0.0.1:8080"})).check("http://127.0.0.1:9999/")
