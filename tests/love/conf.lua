-- Headless LÖVE for tests: no window and no media modules, so no display or audio is needed.
function love.conf(t)
  t.window = false
  t.identity = "enet-tests"
  for _, m in ipairs({ "audio", "graphics", "image", "joystick", "keyboard", "mouse", "sound",
                       "touch", "video", "window", "font", "physics" }) do
    t.modules[m] = false
  end
end
