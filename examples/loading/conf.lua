-- A window normally; headless (no window, no media modules) with `--headless`, as a test may run it.
local function headless()
  for _, a in ipairs(arg or {}) do
    if a == "--headless" then return true end
  end
  return false
end

function love.conf(t)
  t.identity = "enet-loading"
  t.window.title = "enet: a loading screen that keeps the session"
  t.window.width, t.window.height = 480, 200
  if headless() then
    t.window = false
    for _, m in ipairs({ "audio", "graphics", "image", "joystick", "keyboard", "mouse", "sound",
                         "touch", "video", "window", "font", "physics" }) do
      t.modules[m] = false
    end
  end
end
