-- Window and graphics normally; headless (no window, no media modules) when run with
-- `--headless <frames>` or with ENET_LOVE_HEADLESS=<frames> in the environment, as the tests do.
local function headless()
  if os.getenv("ENET_LOVE_HEADLESS") then return true end
  for _, a in ipairs(arg or {}) do
    if a == "--headless" then return true end
  end
  return false
end

function love.conf(t)
  t.identity = "enet-dots"
  t.window.title = "enet dots: arrow keys move your dot"
  t.window.width, t.window.height = 640, 480
  if headless() then
    t.window = false
    for _, m in ipairs({ "audio", "graphics", "image", "joystick", "keyboard", "mouse", "sound",
                         "touch", "video", "window", "font", "physics" }) do
      t.modules[m] = false
    end
  end
end
