"""aiorch.browser: web automation and scraping in headless Chromium."""
